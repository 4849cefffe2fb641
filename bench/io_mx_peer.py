"""bench/io_mx.sh's Python side: the lesson's e-mail validator (exercise 2)
with dnspython on a ThreadPoolExecutor of 20 workers and a 5 s timeout,
classifying as hilo mx does (MX, else A then AAAA; a null MX, NXDOMAIN or
nothing at all is invalid; a timeout or a server failure unverifiable).

Usage: python io_mx_peer.py MODE ADDRESSES OUT NAMESERVER_IP PORT
  MODE per-address: the lesson's shape, ex.map(check, emails): one lookup
                    per address, as the lesson's verificar_email does;
       per-domain:  the same check once per distinct domain (the work
                    hilo mx does), then the addresses classified from it.
Writes `email,class` lines to OUT (input order) and prints one line
`python_mx_MODE addresses=N domains=N seconds=S per_sec=R`.
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dns.exception
import dns.name
import dns.resolver

WORKERS = 20
TIMEOUT = 5.0


def make_resolver(ip, port):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [ip]
    resolver.port = port
    resolver.timeout = TIMEOUT
    resolver.lifetime = TIMEOUT
    resolver.cache = None
    return resolver


def domain_class(resolver, domain):
    """valid, invalid or unverifiable, as hilo mx decides it."""
    name = domain + "."
    try:
        answer = resolver.resolve(name, "MX")
        if all(r.exchange == dns.name.root for r in answer):
            return "invalid"  # null MX (RFC 7505)
        return "valid"
    except dns.resolver.NXDOMAIN:
        return "invalid"
    except dns.resolver.NoAnswer:
        pass  # no MX: the RFC 5321 fallback
    except (dns.exception.Timeout, dns.resolver.NoNameservers):
        return "unverifiable"
    failed = False
    for rtype in ("A", "AAAA"):
        try:
            resolver.resolve(name, rtype)
            return "valid"
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        except (dns.exception.Timeout, dns.resolver.NoNameservers):
            failed = True
    return "unverifiable" if failed else "invalid"


def main():
    mode, src, out, ip, port = sys.argv[1:6]
    resolver = make_resolver(ip, int(port))
    with open(src, encoding="utf-8") as f:
        emails = [line.strip() for line in f if line.strip()]

    def verificar_email(email):
        try:
            domain = email.rsplit("@", 1)[1].lower()
        except IndexError:
            return email, "invalid"
        return email, domain_class(resolver, domain)

    start = time.perf_counter()
    if mode == "per-address":
        with ThreadPoolExecutor(max_workers=WORKERS) as ex:
            results = list(ex.map(verificar_email, emails))
        domains = len({e.rsplit("@", 1)[-1].lower() for e in emails})
    elif mode == "per-domain":
        distinct = list(dict.fromkeys(e.rsplit("@", 1)[-1].lower() for e in emails))
        with ThreadPoolExecutor(max_workers=WORKERS) as ex:
            classes = dict(zip(distinct, ex.map(lambda d: domain_class(resolver, d), distinct)))
        results = [(e, classes[e.rsplit("@", 1)[-1].lower()]) for e in emails]
        domains = len(distinct)
    else:
        sys.exit(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - start
    with open(out, "w", encoding="utf-8") as f:
        for email, cls in results:
            f.write(f"{email},{cls}\n")
    print(
        f"python_mx_{mode.replace('-', '_')} addresses={len(emails)} domains={domains} "
        f"seconds={seconds:.4f} per_sec={len(emails) / seconds:.1f}"
    )


if __name__ == "__main__":
    main()
