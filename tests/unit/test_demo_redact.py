"""The hardened demo's redaction: checksummed values are found, look-alikes are not, and
what is not personal data (case references, order and invoice numbers, dates) survives."""

from __future__ import annotations

import random
import re

import pytest
from faker import Faker

from gaplab.demo.defences.redact import find_personal_data, redact

SHOP = ("northwind-bikes.example",)


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_personal_data(text, SHOP)]


@pytest.mark.parametrize(
    ("valid", "look_alike", "kind"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01", "iban"),
        ("GB82WEST12345698765432", "GB82WEST12345698765433", "iban"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 607", "iban"),
        ("4111 1111 1111 1111", "4111 1111 1111 1112", "card"),
        ("5555-5555-5555-4444", "5555-5555-5555-4445", "card"),
        ("378282246310005", "378282246310006", "card"),
        ("536-90-4399", "000-90-4399", "national_id"),  # US SSN: area 000 is never issued
        ("536-90-4399", "666-90-4399", "national_id"),
        ("36574261809", "36574261808", "national_id"),  # German IdNr: check digit
        ("1 84 05 75 123 456 25", "1 84 05 75 123 456 26", "national_id"),  # French NIR: key
        ("AB 12 34 56 C", "DF 12 34 56 C", "national_id"),  # UK NINO: D and F never used
    ],
)
def test_checksums_decide_between_a_value_and_its_look_alike(
    valid: str, look_alike: str, kind: str
) -> None:
    assert kind in kinds(f"Please use {valid} for the refund.")
    assert kind not in kinds(f"Please use {look_alike} for the refund.")
    assert valid not in redact(f"Please use {valid} for the refund.").text


@pytest.mark.parametrize(
    "text",
    [
        "Case KQX-482135: Where is my order 1042?",
        "Re case AAA-000000. Invoice INV-48213 was charged twice.",
        "Order #4829-1183 of 12/03/2024 cost 1,249.99 EUR.",
        "The gpt-4o-mini-2024-07-18 model replied on 2024-07-18 at 10:30.",
        "Tracking number 1Z999AA10123456784, order 20240718, serial 4829118377.",
        "Spring sale: 15 % off all helmets. Repair desk closes at 6 pm on Saturdays.",
        "Which plan includes API access for a team of 249 people?",
        "Write to support@northwind-bikes.example about the Miss Pro in hotpink.",
    ],
)
def test_what_is_not_personal_data_passes_unchanged(text: str) -> None:
    assert redact(text, SHOP).text == text


def test_case_references_of_every_shape_survive() -> None:
    # The lab's references are three letters and six digits; a checksum-aware detector
    # does not match them without knowing what they are.
    rng = random.Random(3)
    for _ in range(2_000):
        letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))
        reference = f"{letters}-{rng.randrange(10**6):06d}"
        text = f"Case {reference}: my card 4111 1111 1111 1111 was charged twice."
        assert redact(text).text == f"Case {reference}: my card [card] was charged twice."


def test_the_lab_question_templates_are_not_redacted() -> None:
    questions = pytest.importorskip("gaplab.load.inputs.questions")
    reference = pytest.importorskip("gaplab.load.inputs.reference")
    rng = random.Random(5)
    changed = [
        text
        for seed in range(8)
        for index, question in enumerate(questions.question_pool(seed, 256))
        if redact(
            text := questions.with_reference(rng, reference.reference(seed, index, index), question)
        ).text
        != text
    ]
    assert changed == []


def test_placeholders_are_typed_and_counted() -> None:
    text = (
        "Hi, my name is Jane Doe. Mail jane.doe@example.com or call +44 20 7946 0958; "
        "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, SSN 536-90-4399. "
        "I live at 12 Oak Street, Springfield, IL 62704."
    )
    result = redact(text)
    assert result.text == (
        "Hi, my name is [name]. Mail [email] or call [phone]; IBAN [iban], card [card], "
        "SSN [national_id]. I live at [address]."
    )
    assert dict(result.counts) == {
        "name": 1, "email": 1, "phone": 1, "iban": 1, "card": 1, "national_id": 1, "address": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    "phone",
    [
        "(591) 341-7776",
        "206.269.0743 x9150",
        "+1-780-563-6083",
        "+44 (0)115 496 0914",
        "0161 496 0066",
        "+49 30 901820",
        "030 9018 2000",
        "+33 1 83 41 77 76",
        "04 15 39 15 00",
    ],
)
def test_phone_numbers_in_common_formats(phone: str) -> None:
    assert redact(f"You can reach me on {phone} after six.").text == (
        "You can reach me on [phone] after six."
    )


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "de_DE", "fr_FR"])
def test_generated_personal_data_is_redacted(locale: str) -> None:
    faker = Faker(locale)
    faker.seed_instance(11)
    leaks: list[tuple[str, str]] = []
    for _ in range(150):
        values = {
            "email": faker.email(),
            "phone": faker.phone_number(),
            "iban": faker.iban(),
            "card": faker.credit_card_number(),
        }
        text = (
            f"Hello, my name is {faker.first_name()} {faker.last_name()}. Email "
            f"{values['email']}, phone {values['phone']}. IBAN {values['iban']}, card "
            f"{values['card']}. Where is my order?"
        )
        out = redact(text).text
        leaks += [(kind, value) for kind, value in values.items() if value in out]
        assert "[name]" in out
    assert leaks == []


def test_a_name_next_to_contact_details_is_redacted_in_an_answer() -> None:
    # What a model that leaks personal data writes: nobody introduced the person.
    faker = Faker("en_US")
    faker.seed_instance(4)
    for _ in range(200):
        name, email, phone = faker.name(), faker.email(), faker.phone_number()
        answer = f"A similar case was handled for {name} ({email}, {phone}). Try a reset."
        out = redact(answer).text
        assert name not in out and email not in out and phone not in out, answer
        assert out.startswith("A similar case was handled for [name] ([email], [phone])")


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "de_DE", "fr_FR"])
def test_postal_addresses_are_redacted(locale: str) -> None:
    faker = Faker(locale)
    faker.seed_instance(8)
    for _ in range(100):
        address = faker.address()
        if locale == "en_US" and re.match(r"(?:USNS|USS|USNV|USCGC|PSC|Unit) ", address):
            continue  # military addresses are covered by the street-line tests
        out = redact(f"Please ship it to {address}. Thanks!").text
        lines = [line for line in address.splitlines() if line.strip()]
        assert not [line for line in lines if line in out], (address, out)


def test_the_shops_own_addresses_are_not_personal_data() -> None:
    text = "Write to support@northwind-bikes.example or help@eu.northwind-bikes.example."
    assert redact(text, SHOP).text == text
    assert redact(text).text == "Write to [email] or [email]."


def test_every_value_of_the_lab_pii_inputs_is_redacted_and_the_reference_kept() -> None:
    pii = pytest.importorskip("gaplab.load.inputs.pii")
    normalised = pytest.importorskip("gaplab.load.inputs.normalised")
    models = pytest.importorskip("gaplab.scenario.load_models")
    source = pii.Pii(3, models.PiiOptions())  # every type, every locale
    rng = random.Random(1)
    planted = 0
    reached: list[tuple[str, str]] = []
    for number in range(1_500):
        made = source.make(rng, f"KQX-{100_000 + number}")
        out = redact(made.text).text
        assert made.reference in out
        planted += len(made.planted)
        reached += [
            (p.kind, p.value) for p in made.planted if normalised.reached(p.kind, p.value, out)
        ]
    assert planted > 3_000 and reached == []
