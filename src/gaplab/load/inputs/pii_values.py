"""Personal data that looks and checks like the real thing, seeded per input.

Names, e-mail addresses and postal addresses come from Faker in the input's locale; phone
numbers from Faker too, kept only when `phonenumbers` says they are valid for the locale's
region, then written in a national, international or E.164 style. Numbers pass their real
checksums and every one is validated with python-stdnum (LGPL, used as a library only):
IBANs (mod 97, Faker), card numbers (Luhn, Faker), US SSNs (area, group and serial rules,
Faker en_US), French NIRs (key mod 97, Faker fr_FR), German tax ids (Steuer-IdNr: the digit
rule and ISO 7064 mod 11,10, generated here because Faker has none). UK National Insurance
numbers are generated and checked here against HMRC's published prefix and suffix rules:
python-stdnum has no NINO module, and Faker's en_GB `ssn()` returns unallocated ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from faker import Faker
from stdnum import iban, luhn
from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.us import ssn

REGIONS = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR"}
# A national number belongs with its own locale (a French form asks for a NIR).
NATIONAL_LOCALE = {"us_ssn": "en_US", "uk_nino": "en_GB", "de_tax_id": "de_DE", "fr_nir": "fr_FR"}
_TRIES = 64
_PHONE_STYLES = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)
_CARD_TYPES = ("visa16", "mastercard", "amex", "discover")
_NINO_FIRST_NOT = set("DFIQUV")
_NINO_SECOND_NOT = set("DFIOQUV")
_NINO_PREFIX_NOT = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=8)
def faker(locale: str) -> Faker:
    return Faker(locale)


def is_valid_nino(number: str) -> bool:
    """HMRC's rules: two prefix letters (first not D F I Q U V, second not D F I O Q U V,
    not BG GB KN NK NT TN ZZ), six digits, a suffix A to D."""
    compact = number.replace(" ", "").upper()
    return (
        len(compact) == 9
        and compact[0] in _LETTERS
        and compact[1] in _LETTERS
        and compact[0] not in _NINO_FIRST_NOT
        and compact[1] not in _NINO_SECOND_NOT
        and compact[:2] not in _NINO_PREFIX_NOT
        and compact[2:8].isdigit()
        and compact[8] in "ABCD"
    )


def _nino(fake: Faker, rng: random.Random) -> str:
    while True:
        prefix = rng.choice(_LETTERS) + rng.choice(_LETTERS)
        number = f"{prefix}{rng.randrange(10**6):06d}{rng.choice('ABCD')}"
        if is_valid_nino(number):
            digits = number[2:8]
            if rng.random() < 0.5:
                return number
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {number[8]}"


def _de_tax_id(fake: Faker, rng: random.Random) -> str:
    """Ten digits where exactly one digit appears twice, then the mod 11,10 check digit."""
    while True:
        digits = rng.sample("0123456789", 9)
        digits.append(rng.choice(digits))
        rng.shuffle(digits)
        if digits[0] == "0":
            continue
        body = "".join(digits)
        number = body + mod_11_10.calc_check_digit(body)
        if rng.random() < 0.5:
            return number
        return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:]}"


def _phone(fake: Faker, rng: random.Random, region: str) -> str:
    for _ in range(_TRIES):
        try:
            parsed = phonenumbers.parse(fake.phone_number(), region)
        except phonenumbers.NumberParseException:
            continue
        parsed.extension = None
        if phonenumbers.is_valid_number(parsed) and (
            phonenumbers.region_code_for_number(parsed) == region
        ):
            return phonenumbers.format_number(parsed, rng.choice(_PHONE_STYLES))
    raise RuntimeError(f"no valid {region} phone number in {_TRIES} tries")


def _card(fake: Faker, rng: random.Random) -> str:
    number = fake.credit_card_number(card_type=rng.choice(_CARD_TYPES))
    style = rng.random()
    if style < 0.4:
        return str(number)
    groups = (4, 6, 5) if len(number) == 15 else (4, 4, 4, 4)
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    return (" " if style < 0.8 else "-").join(parts)


def _iban(fake: Faker, rng: random.Random) -> str:
    number = str(fake.iban())
    return iban.format(number) if rng.random() < 0.5 else number


def _fr_nir(fake: Faker, rng: random.Random) -> str:
    number = str(fake.ssn())
    return nir.format(number) if rng.random() < 0.5 else number


Maker = Callable[[Faker, random.Random], str]
_MAKERS: dict[str, Maker] = {
    "name": lambda fake, rng: str(fake.name()),
    "email": lambda fake, rng: str(fake.email()),
    "address": lambda fake, rng: ", ".join(str(fake.address()).splitlines()),
    "iban": _iban,
    "card": _card,
    "us_ssn": lambda fake, rng: str(fake.ssn()),
    "uk_nino": _nino,
    "de_tax_id": _de_tax_id,
    "fr_nir": _fr_nir,
}
VALIDATORS: dict[str, Callable[[str], bool]] = {
    "iban": iban.is_valid,
    "card": luhn.is_valid,
    "us_ssn": ssn.is_valid,
    "uk_nino": is_valid_nino,
    "de_tax_id": idnr.is_valid,
    "fr_nir": nir.is_valid,
}
# Faker's locale for each national number (the data of that country).
_SOURCE_LOCALE = {"us_ssn": "en_US", "fr_nir": "fr_FR"}


def _iban_locale(locale: str) -> str:
    return locale if locale != "en_US" else "en_GB"  # the US has no IBAN


def pii_value(kind: str, locale: str, rng: random.Random) -> str:
    """One value of `kind` (a `PII_TYPES` name) for `locale`, as a person would write it;
    numbers pass their checksums (checked here, a failure is a lab bug)."""
    source_locale = _SOURCE_LOCALE.get(kind, _iban_locale(locale) if kind == "iban" else locale)
    fake = faker(source_locale)
    fake.seed_instance(rng.getrandbits(32))
    if kind == "phone":
        return _phone(fake, rng, REGIONS[locale])
    validate = VALIDATORS.get(kind)
    for _ in range(_TRIES):
        value = _MAKERS[kind](fake, rng)
        if validate is None or validate(value):
            return value
    raise RuntimeError(f"no valid {kind} for {locale} in {_TRIES} tries")
