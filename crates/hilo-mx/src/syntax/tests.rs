//! The rule, case by case. The punycode expected here was computed
//! outside this crate (Python's `idna` and `punycode` codecs), not by the
//! `idna` crate under test.

use super::{parse, SyntaxError as E};

fn domain(address: &str) -> String {
    match parse(address) {
        Ok(a) => a.domain,
        Err(e) => panic!("{address:?} refused: {e}"),
    }
}

#[test]
fn ordinary_addresses_pass_with_their_domain_in_small_letters() {
    assert_eq!(domain("user@example.com"), "example.com");
    assert_eq!(domain("First.Last@Mail.Example.COM"), "mail.example.com");
    assert_eq!(domain("a@b.co"), "b.co");
    assert_eq!(domain("x@a-b.c-d.example"), "a-b.c-d.example");
    assert_eq!(domain("x@123.example"), "123.example");
    assert_eq!(parse("First.Last@example.com").unwrap().local, "First.Last");
}

#[test]
fn every_atext_character_is_allowed_in_the_local_part() {
    let local = "!#$%&'*+-/=?^_`{|}~.AZaz09";
    assert_eq!(domain(&format!("{local}@example.com")), "example.com");
}

#[test]
fn international_domains_become_punycode() {
    assert_eq!(domain("user@bücher.de"), "xn--bcher-kva.de");
    assert_eq!(domain("user@MÜNCHEN.de"), "xn--mnchen-3ya.de");
    assert_eq!(domain("user@例え.テスト"), "xn--r8jz45g.xn--zckzah");
    assert_eq!(domain("user@äöü.example"), "xn--4ca0bs.example");
    // UTS 46 without transitional mapping keeps ß (IDNA 2003 made it ss).
    assert_eq!(domain("user@straße.de"), "xn--strae-oqa.de");
    // Already punycode: left as it is.
    assert_eq!(domain("user@xn--bcher-kva.de"), "xn--bcher-kva.de");
}

#[test]
fn the_last_at_splits_and_an_at_in_the_local_part_is_refused() {
    assert_eq!(parse("a@b@example.com"), Err(E::LocalChar('@')));
    assert_eq!(parse("example.com"), Err(E::NoAt));
    assert_eq!(parse(""), Err(E::NoAt));
}

#[test]
fn bad_local_parts_say_what_is_wrong() {
    assert_eq!(parse("@example.com"), Err(E::EmptyLocal));
    assert_eq!(parse(".a@example.com"), Err(E::LocalDotAtEnd));
    assert_eq!(parse("a.@example.com"), Err(E::LocalDotAtEnd));
    assert_eq!(parse("a..b@example.com"), Err(E::LocalDoubleDot));
    assert_eq!(parse("a b@example.com"), Err(E::LocalChar(' ')));
    assert_eq!(parse("a(b)@example.com"), Err(E::LocalChar('(')));
    assert_eq!(parse("a,b@example.com"), Err(E::LocalChar(',')));
    assert_eq!(parse("josé@example.com"), Err(E::LocalChar('é')));
}

#[test]
fn the_local_part_may_have_64_octets_and_no_more() {
    let ok = "a".repeat(64);
    assert_eq!(domain(&format!("{ok}@example.com")), "example.com");
    let long = "a".repeat(65);
    assert_eq!(
        parse(&format!("{long}@example.com")),
        Err(E::LocalTooLong(65))
    );
}

#[test]
fn quoted_local_parts_and_address_literals_are_refused_by_name() {
    assert_eq!(parse("\"john doe\"@example.com"), Err(E::QuotedLocal));
    assert_eq!(parse("\"a@b\"@example.com"), Err(E::QuotedLocal));
    assert_eq!(parse("user@[192.0.2.1]"), Err(E::AddressLiteral));
    assert_eq!(parse("user@[IPv6:2001:db8::1]"), Err(E::AddressLiteral));
    assert_eq!(parse("user@192.0.2.1"), Err(E::NumericTld("1".to_owned())));
    let said = E::QuotedLocal.to_string();
    assert!(said.contains("not supported"), "{said}");
}

#[test]
fn bad_domains_say_what_is_wrong() {
    assert_eq!(parse("a@"), Err(E::EmptyDomain));
    assert_eq!(parse("a@localhost"), Err(E::OneLabel));
    assert_eq!(parse("a@example..com"), Err(E::EmptyLabel));
    assert_eq!(parse("a@.example.com"), Err(E::EmptyLabel));
    assert_eq!(parse("a@example.com."), Err(E::EmptyLabel));
    assert_eq!(
        parse("a@-example.com"),
        Err(E::LabelHyphen("-example".to_owned()))
    );
    assert_eq!(
        parse("a@example-.com"),
        Err(E::LabelHyphen("example-".to_owned()))
    );
    assert_eq!(
        parse("a@exa_mple.com"),
        Err(E::LabelChar {
            label: "exa_mple".to_owned(),
            ch: '_'
        })
    );
    assert_eq!(
        parse("a@exa mple.com"),
        Err(E::LabelChar {
            label: "exa mple".to_owned(),
            ch: ' '
        })
    );
}

#[test]
fn labels_may_have_63_octets_and_names_253() {
    let label63 = "a".repeat(63);
    assert_eq!(domain(&format!("x@{label63}.com")).len(), 67);
    let label64 = "a".repeat(64);
    assert_eq!(
        parse(&format!("x@{label64}.com")),
        Err(E::LabelTooLong(label64))
    );
    // 4 labels of 63 with 3 dots: 255; cut the last to 61: 253.
    let at_most = format!("{0}.{0}.{0}.{1}", label63, "b".repeat(61));
    assert_eq!(at_most.len(), 253);
    assert_eq!(domain(&format!("x@{at_most}")), at_most);
    let too_long = format!("{0}.{0}.{0}.{1}", label63, "b".repeat(62));
    assert_eq!(parse(&format!("x@{too_long}")), Err(E::DomainTooLong(254)));
}

#[test]
fn the_length_limits_count_the_ascii_form() {
    // 60 ü's: 60 characters, but a punycode label of 66 octets.
    let name = "ü".repeat(60);
    match parse(&format!("x@{name}.de")) {
        Err(E::LabelTooLong(label)) => {
            assert!(label.starts_with("xn--"), "{label}");
            assert_eq!(label.len(), 66);
        }
        other => panic!("{other:?}"),
    }
}
