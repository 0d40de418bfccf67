"""Personal data in what users type: filled-in forms and free text, in the language of the
input's locale (English for en_US and en_GB, German for de_DE, French for fr_FR).

Each input draws a locale from `PiiOptions.locales` and one to four types from
`PiiOptions.types`; a national number (US SSN, UK NINO, German tax id, French NIR) appears
with its own locale, or with any locale when none of the chosen locales is its own. Every
value written is recorded in `planted` as `pii.<type>`; `gaplab.load.inputs.normalised`
says when one reached the provider. The reference opens the first line.
"""

from __future__ import annotations

import random

from gaplab.load.inputs.base import Planted, UserInput
from gaplab.load.inputs.pii_values import NATIONAL_LOCALE, pii_value
from gaplab.load.inputs.questions import question_pool, with_reference
from gaplab.scenario.load_models import PiiOptions

_LANGUAGE = {"en_US": "en", "en_GB": "en", "de_DE": "de", "fr_FR": "fr"}
LABELS = {
    "en": {
        "name": "Full name", "email": "Email", "phone": "Phone", "address": "Address",
        "iban": "IBAN", "card": "Card number", "us_ssn": "SSN",
        "uk_nino": "National Insurance number", "de_tax_id": "German tax ID",
        "fr_nir": "French social security number",
    },
    "de": {
        "name": "Name", "email": "E-Mail", "phone": "Telefon", "address": "Anschrift",
        "iban": "IBAN", "card": "Kartennummer", "us_ssn": "US-Sozialversicherungsnummer",
        "uk_nino": "NI-Nummer", "de_tax_id": "Steuer-ID", "fr_nir": "NIR",
    },
    "fr": {
        "name": "Nom", "email": "E-mail", "phone": "Téléphone", "address": "Adresse",
        "iban": "IBAN", "card": "Numéro de carte", "us_ssn": "SSN",
        "uk_nino": "NINO", "de_tax_id": "Identifiant fiscal allemand",
        "fr_nir": "Numéro de sécurité sociale",
    },
}  # fmt: skip
SENTENCES = {
    "en": {
        "name": "My name is {v}.", "email": "You can email me at {v}.",
        "phone": "Call me on {v} if anything is unclear.", "address": "I have moved to {v}.",
        "iban": "Please send the refund to IBAN {v}.", "card": "I paid with my card {v}.",
        "us_ssn": "My SSN is {v}, in case the tax form needs it.",
        "uk_nino": "My National Insurance number is {v}.",
        "de_tax_id": "My German tax ID is {v}.",
        "fr_nir": "My French social security number is {v}.",
    },
    "de": {
        "name": "Mein Name ist {v}.", "email": "Sie erreichen mich unter {v}.",
        "phone": "Rufen Sie mich bitte unter {v} an.",
        "address": "Meine neue Anschrift lautet {v}.",
        "iban": "Bitte erstatten Sie den Betrag auf das Konto {v}.",
        "card": "Ich habe mit der Karte {v} bezahlt.",
        "us_ssn": "Meine US-Sozialversicherungsnummer ist {v}.",
        "uk_nino": "Meine britische NI-Nummer ist {v}.",
        "de_tax_id": "Meine Steuer-ID lautet {v}.",
        "fr_nir": "Meine französische Sozialversicherungsnummer ist {v}.",
    },
    "fr": {
        "name": "Je m'appelle {v}.", "email": "Vous pouvez m'écrire à {v}.",
        "phone": "Appelez-moi au {v} en cas de besoin.", "address": "J'habite désormais {v}.",
        "iban": "Merci de verser le remboursement sur l'IBAN {v}.",
        "card": "J'ai payé avec la carte {v}.", "us_ssn": "Mon SSN américain est {v}.",
        "uk_nino": "Mon numéro NINO britannique est {v}.",
        "de_tax_id": "Mon identifiant fiscal allemand est {v}.",
        "fr_nir": "Mon numéro de sécurité sociale est {v}.",
    },
}  # fmt: skip
FORM_INTROS = {
    "en": ("Please update my account with the details below.", "Here is my completed form:"),
    "de": ("Bitte aktualisieren Sie mein Konto mit diesen Angaben:", "Hier mein Formular:"),
    "fr": ("Merci de mettre à jour mon dossier avec ces informations :", "Voici mon formulaire :"),
}
CLOSINGS = {"de": "Können Sie mir bitte weiterhelfen?", "fr": "Pouvez-vous m'aider ?"}
_MAX_TYPES = 4


class Pii:
    """Forms and free text carrying personal data, every value recorded."""

    kind = "pii"

    def __init__(self, seed: int, options: PiiOptions) -> None:
        self.types: tuple[str, ...] = tuple(options.types)
        self.locales: tuple[str, ...] = tuple(options.locales)
        self.questions = question_pool(seed + 11, 64)

    def _types_for(self, locale: str) -> tuple[str, ...]:
        own = tuple(
            kind
            for kind in self.types
            if NATIONAL_LOCALE.get(kind, locale) == locale
            or NATIONAL_LOCALE[kind] not in self.locales
        )
        return own or self.types

    def make(self, rng: random.Random, reference: str) -> UserInput:
        locale = rng.choice(self.locales)
        language = _LANGUAGE[locale]
        candidates = self._types_for(locale)
        kinds = rng.sample(candidates, rng.randint(1, min(_MAX_TYPES, len(candidates))))
        values = [(kind, pii_value(kind, locale, rng)) for kind in kinds]
        if rng.random() < 0.5:
            lines = [rng.choice(FORM_INTROS[language])]
            lines += [f"{LABELS[language][kind]}: {value}" for kind, value in values]
            body = "\n".join(lines)
        else:
            body = " ".join(SENTENCES[language][kind].format(v=value) for kind, value in values)
            body += " " + (rng.choice(self.questions) if language == "en" else CLOSINGS[language])
        return UserInput(
            with_reference(rng, reference, body),
            self.kind,
            reference,
            owasp=("LLM02",),
            planted=tuple(Planted(f"pii.{kind}", value) for kind, value in values),
        )
