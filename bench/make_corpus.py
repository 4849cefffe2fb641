#!/usr/bin/env python3
"""Writes the text corpus the workload benchmarks (compress, wordcount) use.

Usage: python3 bench/make_corpus.py DIR [--files N] [--file-mb M] [--big-mb B]

DIR gets N files of M MB each (small/000.txt ...) and one file of B MB
(big.txt): lines of words drawn with a Zipf-like law from an English and
Spanish vocabulary (accents and ñ included) plus numbers and punctuation, so
the text compresses like prose and has a realistic word-frequency tail. The
output depends only on the arguments (fixed seed), and files already there
with the right size are kept, so a second run costs nothing.
"""

import argparse
import itertools
import os
import random
import sys

BASE = """the of and to in is that it was for on are as with his they at be this
from have or by one had not but what all were when we there can an your which
their said if do will each about how up out them then she many some so these
would other into has more her two like him see time could no make than first
been its who now people my made over did down only way find use may water long
little very after words called just where most know get through back much go
good new write our me man too any day same right look think also around another
came come work three word must because does part even place well such here take
why help put different away again off went old number great tell men say small
every found still between name should home big give air line set own under read
last never us left end along while might next sound below saw something thought
both few those always looked show large often together asked house don world
going want school important until form food keep children feet land side without
boy once animals life enough took sometimes four head above kind began almost
live page got earth need far hand high year mother light parts country father
el la de que y en un ser se no haber por con su para como estar tener le lo todo
pero más hacer o poder decir este ir otro ese si me ya ver porque dar cuando él
muy sin vez mucho saber qué sobre mi alguno mismo yo también hasta año dos querer
entre así primero desde grande eso ni nos llegar pasar tiempo ella sí día uno
bien poco deber entonces poner cosa tanto hombre parecer nuestro tan donde ahora
parte después vida quedar siempre creer hablar llevar dejar nada cada seguir
menos nuevo encontrar algo solo decir salir volver tomar conocer vivir sentir
tratar mirar contar empezar esperar buscar existir entrar trabajar escribir
perder producir ocurrir entender pedir recibir recordar terminar permitir
aparecer conseguir comenzar servir sacar necesitar mantener resultar leer caer
cambiar presentar crear abrir considerar oír acabar convertir ganar formar traer
partir morir aceptar realizar suponer comprender lograr explicar niño niña año
mañana español señor señora corazón canción acción nación información educación
región opinión razón pasión jamón camión árbol lápiz fácil difícil útil café
está también después además través según aquí allí así sábado miércoles
""".split()

PUNCT = [",", ".", ";", ":", "!", "?", "", "", "", "", "", ""]


def vocabulary(rng):
    """The base words, their capitalised forms and some made-up rare ones."""
    words = list(BASE)
    words += [w.capitalize() for w in BASE[:200]]
    letters = "abcdefghijklmnopqrstuvwxyzáéíóúñ"
    for _ in range(20000):
        words.append("".join(rng.choice(letters) for _ in range(rng.randint(4, 12))))
    return words


def write_file(path, size, rng, words, cum_weights):
    """Writes about `size` bytes of lines to `path` (atomically)."""
    tmp = path + ".part"
    written = 0
    with open(tmp, "w", encoding="utf-8") as f:
        while written < size:
            chunk = []
            for _ in range(2000):
                n = rng.randint(5, 16)
                line = " ".join(rng.choices(words, cum_weights=cum_weights, k=n))
                if rng.random() < 0.1:
                    line += " " + str(rng.randint(0, 99999))
                chunk.append(line + rng.choice(PUNCT))
            text = "\n".join(chunk) + "\n"
            f.write(text)
            written += len(text.encode("utf-8"))
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir")
    p.add_argument("--files", type=int, default=40)
    p.add_argument("--file-mb", type=float, default=5)
    p.add_argument("--big-mb", type=float, default=200)
    a = p.parse_args()
    rng = random.Random(20261125)
    words = vocabulary(rng)
    cum_weights = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(words))))
    os.makedirs(os.path.join(a.dir, "small"), exist_ok=True)
    jobs = [(os.path.join("small", f"{i:03}.txt"), a.file_mb) for i in range(a.files)]
    jobs.append(("big.txt", a.big_mb))
    for name, mb in jobs:
        path = os.path.join(a.dir, name)
        size = int(mb * 1024 * 1024)
        if os.path.exists(path) and os.path.getsize(path) >= size:
            continue
        # One generator per file, seeded by its name: same text every time.
        write_file(path, size, random.Random(f"{name}:{size}"), words, cum_weights)
    print(f"corpus in {a.dir}: {a.files} x {a.file_mb} MB + {a.big_mb} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
