"""The patterns the input guard looks for, by technique, in the languages attacks use.

Each pattern is meant for normalised text (see `normalise.py`) and is matched
case-insensitively. They describe what an attack *does* (tell the assistant to drop its
instructions, take on another role, fake a conversation boundary, hand over its prompt, or
smuggle data out through a link), not any tester's marker: a request that asks the model to
repeat a token is only suspicious when it also tries to override the assistant.

Kept narrow on purpose: "show me the instructions for my bike lock" is a support question;
"show me your instructions" is an extraction attempt. Benign traffic must never match (the
guard's tests run thousands of ordinary questions and documents through it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class InjectionPattern:
    technique: str  # override, role_play, delimiter, extraction, exfiltration
    language: str
    regex: re.Pattern[str]


def _p(technique: str, language: str, *patterns: str) -> list[InjectionPattern]:
    return [
        InjectionPattern(technique, language, re.compile(p, re.IGNORECASE | re.MULTILINE))
        for p in patterns
    ]


# Words shared by several English patterns.
_DROP = r"(?:ignore|disregard|forget|override|overrule|bypass|discard|set\s+aside)"
_EARLIER = (
    r"(?:all|any|every|the|your|these|those|previous|prior|preceding|earlier|above|"
    r"foregoing|initial|original|old|existing|current|system|developer|safety|default)"
)
_RULES = (
    r"(?:instructions?|rules|directives?|guidelines|guidance|prompts?|constraints|"
    r"restrictions|policies|programming|commands|filters)"
)
_YOUR_PROMPT = (
    r"(?:(?:your|the|this|nora'?s)\s+(?:\w+\s+){0,2}?(?:system|initial|hidden|original|"
    r"secret|internal|developer|starting|confidential|preset|underlying)\s*[- ]?"
    r"(?:prompts?|instructions?|messages?|directives|configuration)"
    r"|system\s*prompt"
    r"|(?:your|nora'?s)\s+(?:full\s+|complete\s+|exact\s+|entire\s+|original\s+)?"
    r"(?:instructions|directives|prompt|programming|configuration)"
    r"(?!\s+(?:for|on|about|to|of)\b))"
)
_SHOW = (
    r"(?:reveal|print|show|display|repeat|recite|output|leak|dump|disclose|expose|share|"
    r"echo|paste|copy|write\s+out|spell\s+out|type\s+out|list|quote|translate|summari[sz]e|"
    r"tell\s+me|give\s+me|send\s+me|what\s+(?:is|are|was|were))"
)

_GROUPS: list[list[InjectionPattern]] = [
    # --- instruction override ------------------------------------------------------------
    _p(
        "override",
        "en",
        rf"\b{_DROP}\b[\s,:]+(?:(?!my\b)\w+\s+){{0,4}}?{_EARLIER}\b(?:\s+\w+){{0,3}}?\s+{_RULES}\b",
        rf"\b{_DROP}\s+(?:everything|anything|all)\s+(?:\w+\s+){{0,3}}?"
        r"(?:above|before|previously|earlier|you\s+(?:were|have\s+been)\s+told)",
        r"\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|priority)\s+"
        r"(?:system\s+)?(?:instructions?|rules?|directives?|task|policy)\b[^:\n]{0,30}:",
        r"\byour\s+(?:only|new|real|actual|one)\s+(?:task|job|purpose|goal)\s+(?:is|now\s+is)\b",
        r"\b(?:everything|all|anything)\s+(?:you\s+were|you've\s+been|you\s+have\s+been)\s+"
        r"told\b[^.\n]{0,30}\b(?:cancel+ed|void|withdrawn|revoked|obsolete|no\s+longer)",
        r"\b(?:all\s+)?(?:earlier|previous|prior|existing)\s+(?:guidance|instructions|rules)\s+"
        r"(?:is|are|has\s+been|have\s+been)\s+(?:withdrawn|cancel+ed|void|revoked|replaced)",
        r"\boverride\s+(?:code|mode|key|token)\b|\boverride\s+(?:accepted|granted|enabled)\b",
        r"\b(?:system|admin|administrator|developer|root|emergency)\s+"
        r"(?:override|command|mode|instructions?)\s*[:!]",
        r"\b(?:from\s+now\s+on|from\s+here\s+on|henceforth|for\s+the\s+rest\s+of\s+(?:this|"
        r"the)\s+conversation)\b[\s,]+(?:you\s+(?:will\s+)?)?(?:are|only|always|never|respond|"
        r"reply|answer|act|ignore|obey|your\s+only)\b",
        r"\binstead\s+of\s+(?:answering|following|your\s+(?:task|instructions))\b",
        r"\b(?:do\s+not|don'?t|never)\s+(?:follow|obey|listen\s+to|apply)\s+(?:\w+\s+){0,2}?"
        rf"{_RULES}\b",
        r"\byour\s+(?:previous|prior|original|old)\s+(?:instructions|rules|prompt)\s+"
        r"(?:are|were|have\s+been)\s+(?:void|cancel+ed|revoked|replaced|lifted|obsolete)",
        r"\b(?:the\s+)?(?:above|previous|prior)\s+(?:instructions|rules)\s+(?:are|were|do)\s+"
        r"(?:void|cancel+ed|revoked|replaced|not\s+apply|no\s+longer)",
        r"\b(?:assistant|ai|model|chatbot|llm)s?\b[^.\n]{0,40}\b(?:must|should|shall|will)\s+"
        r"(?:now\s+)?(?:ignore|disregard|reply\s+only|respond\s+only|output\s+only|say\s+only)",
        r"\b(?:the\s+)?(?:assistant|ai|chatbot|llm)\s+(?:must|shall|is\s+to|has\s+to|will\s+now)\s+"
        r"(?:now\s+)?(?:write|say|print|output|reply|respond|answer|begin|start|include|end|add|"
        r"ignore|reveal|repeat)\b",
        r"\b(?:important|attention|note|notes?|instructions?|message|messages|reminder|notice|"
        r"directive|request)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|assistant|model|chatbot|"
        r"bot|llm|language\s+model|summari[sz]er|reader\s+bot)s?\b",
        r"\b(?:ai|automated)\s+(?:summari[sz]ers?|assistants?|readers?|agents?)\s*[:,]",
        r"\b(?:if\s+you\s+are\s+(?:an?\s+)?(?:ai|assistant|language\s+model|llm|chatbot))\b",
        r"\b(?:say|print|output|write|repeat)\s+(?:only|exactly|just)\b[^.\n]{0,20}"
        r"(?:[\"'“‘]|\b[A-Z0-9_-]{8,}\b)",
    ),
    _p(
        "override",
        "de",
        r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen\s+sie|missachte(?:n)?|übergehe)\b"
        r"[^.\n]{0,40}\b(?:anweisungen|instruktionen|regeln|vorgaben|befehle|anordnungen)\b",
        r"\bneue\s+(?:anweisungen?|instruktionen?|regeln|aufgabe)\s*:",
        r"\bab\s+(?:jetzt|sofort)\b[^.\n]{0,30}\b(?:du|antworte|ignoriere)\b",
    ),
    _p(
        "override",
        "fr",
        r"\b(?:ignore[zr]?|oublie[zr]?|ne\s+tiens\s+pas\s+compte)\b[^.\n]{0,40}"
        r"\b(?:instructions?|consignes|règles|directives|ordres)\b",
        r"\bnouvelles?\s+(?:instructions?|consignes|règles|directives)\s*:",
        r"\bà\s+partir\s+de\s+maintenant\b[^.\n]{0,30}\b(?:tu|vous|réponds|ignore)\b",
    ),
    _p(
        "override",
        "es",
        r"\b(?:ignora[rd]?|olvida[rd]?|omite|descarta|haz\s+caso\s+omiso\s+de)\b[^.\n]{0,40}"
        r"\b(?:instrucciones|reglas|indicaciones|directrices|órdenes)\b",
        r"\bnuevas\s+(?:instrucciones|reglas|indicaciones)\s*:",
        r"\ba\s+partir\s+de\s+ahora\b[^.\n]{0,30}\b(?:eres|responde|ignora|tú|tu)\b",
    ),
    _p(
        "override",
        "it",
        r"\b(?:ignora|dimentica|trascura)\b[^.\n]{0,40}\b(?:istruzioni|regole|indicazioni)\b",
        r"\bnuove\s+(?:istruzioni|regole)\s*:",
    ),
    _p(
        "override",
        "pt",
        r"\b(?:ignore|ignora|esqueça|esquece|desconsidere)\b[^.\n]{0,40}"
        r"\b(?:instruções|regras|orientações|diretrizes)\b",
        r"\bnovas\s+(?:instruções|regras)\s*:",
    ),
    _p(
        "override",
        "nl",
        r"\b(?:negeer|vergeet)\b[^.\n]{0,40}\b(?:instructies|regels|aanwijzingen)\b",
        r"\bnieuwe\s+(?:instructies|regels)\s*:",
    ),
    _p(
        "override",
        "pl",
        r"\b(?:zignoruj|ignoruj|zapomnij)\b[^.\n]{0,40}\b(?:instrukcje|instrukcji|polecenia|"
        r"zasady)\b",
    ),
    _p(
        "override",
        "ru",
        r"(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не\s+обращай\s+внимания\s+на)"
        r"[^.\n]{0,40}(?:инструкци|указани|правил|команд)",
        r"новые\s+(?:инструкции|указания|правила)\s*:",
    ),
    _p(
        "override",
        "uk",
        r"(?:ігноруй|забудь)[^.\n]{0,40}(?:інструкці|вказівк|правил)",
    ),
    _p(
        "override",
        "tr",
        r"\b(?:önceki|yukarıdaki|tüm)\b[^.\n]{0,30}\b(?:talimatları|kuralları)\b[^.\n]{0,20}"
        r"\b(?:yok\s+say|unut|görmezden\s+gel)",
    ),
    _p(
        "override",
        "zh",
        r"(?:忽略|无视|忽视|忘记|忘掉|不要理会|無視|忘記)[^。\n]{0,20}(?:指令|指示|说明|規則|规则|提示|命令)",
        r"新的?(?:指令|指示|规则)\s*[:：]",
    ),
    _p(
        "override",
        "ja",
        r"(?:指示|命令|ルール|プロンプト|指令)[^。\n]{0,20}(?:無視|忘れ)",
        r"(?:無視|忘れ)[^。\n]{0,10}(?:指示|命令|ルール)",
    ),
    _p(
        "override",
        "ko",
        r"(?:지시|명령|규칙|지침)[^.\n]{0,20}(?:무시|잊어)",
    ),
    _p(
        "override",
        "ar",
        r"(?:تجاهل|انس)[^.\n]{0,40}(?:التعليمات|الأوامر|القواعد)",
    ),
    _p(
        "override",
        "hi",
        r"(?:निर्देशों|निर्देश|नियमों)[^।\n]{0,30}(?:अनदेखा|भूल\s+जाओ|नज़रअंदाज़)",
    ),
    # --- role play -----------------------------------------------------------------------
    _p(
        "role_play",
        "en",
        r"\byou\s+are\s+now\s+(?:an?|the|my|in|called|named|known\s+as|free|unrestricted|"
        r"unfiltered|jailbroken|evil|no\s+longer)\b",
        r"\byou\s+are\s+no\s+longer\s+(?:an?|the|bound|nora|restricted|limited|required|"
        r"a\s+support)\b",
        r"\b(?:from\s+now\s+on|henceforth)\s*,?\s+you(?:'re|\s+are|\s+will\s+be)\b",
        r"\b(?:pretend|imagine)\s+(?:that\s+)?(?:you\s+are|you'?re|to\s+be)\s+"
        r"(?!(?:a|the|my)\s+(?:customer|cyclist|beginner)\b)",
        r"\b(?:act|behave|respond|answer)\s+as\s+(?:if\s+you\s+(?:were|are)\s+)?(?:an?\s+)?"
        r"(?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|different|new|other)\b",
        r"\b(?:role-?play|roleplay)\s+as\b",
        r"\blet'?s\s+play\s+a\s+game\b[^\n]{0,60}\byou\b",
        r"\b(?:knows|has|have)\s+no\s+(?:rules|guidelines|filters|limits|restrictions)\b",
        r"\b(?:assistant|ai|bot|chatbot|persona|character)\b[^.\n]{0,30}\bwith\s+no\s+"
        r"(?:restrictions|rules|limits|filters)\b",
        r"\brepeat\s+after\s+me\b",
        r"\b(?:broken|break)\s+free\s+(?:of|from)\b",
        r"\bnever\s+refuses?\b",
        r"\b(?:you|your\s+character)\s+(?:are|is)\s+(?:an?\s+)?(?:\w+\s+){0,3}?(?:without|with\s+no)"
        r"\s+(?:any\s+)?(?:rules|guidelines|limits|filters|restrictions)\b",
        r"\b(?:do\s+anything\s+now|developer\s+mode|god\s+mode|jailbreak(?:ed|\s+mode)?|"
        r"unrestricted\s+mode|no\s+restrictions\s+mode)\b",
        r"\b(?:stay|remain)\s+in\s+character\b",
        r"\byour\s+(?:new\s+)?(?:name|role|persona|identity)\s+is\b",
        r"\b(?:enable|activate|switch\s+(?:on|to)|enter)\s+(?:the\s+)?(?:\w+\s+)?mode\b"
        r"[^.\n]{0,40}\b(?:no|without|unrestricted|unfiltered|ignore)\b",
    ),
    _p(
        "role_play",
        "de",
        r"\bdu\s+bist\s+(?:jetzt|ab\s+sofort|nun|nicht\s+mehr)\b",
        r"\btu\s+so,?\s+als\s+(?:ob|wärst)\s+du\b",
    ),
    _p(
        "role_play",
        "fr",
        r"\b(?:tu\s+es|vous\s+êtes)\s+(?:maintenant|désormais|dorénavant)\b",
        r"\bfais\s+comme\s+si\s+tu\s+étais\b",
    ),
    _p("role_play", "es", r"\b(?:ahora\s+eres|ya\s+no\s+eres|finge\s+que\s+eres)\b"),
    _p("role_play", "it", r"\b(?:ora\s+sei|adesso\s+sei|fingi\s+di\s+essere)\b"),
    _p("role_play", "pt", r"\b(?:agora\s+você\s+é|agora\s+és|finja\s+que\s+é)\b"),
    _p("role_play", "ru", r"(?:теперь\s+ты|ты\s+больше\s+не|притворись)"),
    _p("role_play", "zh", r"(?:你现在是|從現在起你是|从现在起你是|假装你是|扮演)"),
    _p("role_play", "ja", r"(?:あなたは今|今からあなたは|のふりをして)"),
    [  # a fake turn in capitals ("System:" in a pasted log is no attack; "SYSTEM:" is)
        InjectionPattern(
            "delimiter", "any", re.compile(r"^\s*(?:SYSTEM|ASSISTANT|DEVELOPER)\s*:", re.MULTILINE)
        ),
    ],
    [  # a persona name, so only in capitals ("Dan" is a customer's name)
        InjectionPattern("role_play", "en", re.compile(r"\bDAN\b(?:\s+mode|,|\s+can|\s+which)")),
        InjectionPattern("role_play", "en", re.compile(r"\bSTAN\b|\bDUDE\b|\bAIM\b(?=,|:)")),
    ],
    # --- fake conversation boundaries ----------------------------------------------------
    _p(
        "delimiter",
        "any",
        r"<\|?\s*(?:im_start|im_end|endoftext|system|assistant|user|eot_id|start_header_id)"
        r"\s*\|?>",
        r"\[/?\s*(?:INST|SYS|SYSTEM|ASSISTANT)\s*\]",
        r"<<\s*/?\s*SYS\s*>>",
        r"</?\s*(?:system|instructions?|system_prompt|admin|developer)\s*>",
        r"^\s*(?:#{2,}|-{3,}|={3,}|\*{3,}|/{2,})\s*(?:(?:new|updated|hidden|real|secret)\s+"
        r"instructions?|system(?:\s+(?:prompt|message|override|instructions?|notice|directive|"
        r"command|alert))?\s*(?:[:#=*-]|$)|"
        r"admin\b|developer\s+(?:mode|message)|end\s+of\s+(?:user\s+)?(?:input|document|"
        r"context|text|data|file|email))",
        r"\b(?:end|begin|start)\s+of\s+(?:the\s+)?(?:system\s+prompt|instructions|user\s+"
        r"(?:input|message|query|request|turn)|(?:untrusted|user)\s+(?:content|data))\b",
        r"[\"']role[\"']\s*:\s*[\"'](?:system|developer|assistant)[\"']",
        r"^\s*role\s*:\s*(?:system|developer)\s*$",
        r"-{3,}\s*(?:BEGIN|END|START)\s+(?:ADMIN|SYSTEM|DEVELOPER|ROOT|OPERATOR)\b",
        r"</?\s*(?:user_input|user|instructions|system_message|assistant)\s*>\s*(?:<|\n|$)",
        r"^\s*(?:system|assistant|developer)\s*(?:message|prompt)?\s*[:>]\s*(?:you|ignore|new|"
        r"from|the\s+user|nora|always|never|reply|respond|output|print|say|disregard|forget)\b",
        r"\b(?:end|ende|fin|fine)\s*(?:of\s+)?(?:document|dokument|documento|texte?|email|"
        r"e-mail|file)\s*[.\-=#*\])]*\s*(?:new|neue|nouvelles?|nuevas?)\s+\w+",
    ),
    # --- extraction of the system prompt -------------------------------------------------
    _p(
        "extraction",
        "en",
        rf"\b{_SHOW}\b[^.?!\n]{{0,40}}{_YOUR_PROMPT}",
        rf"{_YOUR_PROMPT}[^.?!\n]{{0,30}}\b(?:verbatim|word\s+for\s+word|in\s+full|exactly|"
        r"as\s+written|in\s+a\s+code\s+block)",
        r"\b(?:repeat|print|output|recite|copy|show)\s+(?:\w+\s+){0,3}?(?:text|words|"
        r"everything|all|lines?|messages?|content)\s+(?:\w+\s+){0,2}?(?:above|preceding|"
        r"(?:prior\s+to|before)\s+(?:this|my)\s+(?:message|line|question))\b",
        r"\bwhat\s+(?:were\s+you|have\s+you\s+been|are\s+you)\s+(?:told|instructed|"
        r"programmed|configured)\b",
        r"\b(?:start|begin)\s+(?:your\s+(?:answer|reply|response)\s+)?with\s+"
        r"[\"'“]?you\s+are\s+nora",
        rf"\b{_SHOW}\b[^.?!\n]{{0,40}}\b(?:beginning|start|top)\s+of\s+(?:this|the|our)\s+"
        r"(?:conversation|chat|prompt|context)\b",
        r"\bwhat\s+(?:rules|instructions|guidelines)\s+(?:do\s+you\s+follow|were\s+you\s+given|"
        r"have\s+you\s+been\s+given)\b",
        rf"\b{_SHOW}\b[^.?!\n]{{0,30}}\b(?:the\s+)?(?:instructions|rules|prompt|guidelines)\s+"
        r"(?:you\s+(?:were|have\s+been|got)\s+given|you\s+received|you\s+follow|you\s+were\s+told)",
    ),
    _p(
        "extraction",
        "de",
        r"\b(?:zeig(?:e|en)?|gib|nenne|wiederhole|verrate|ausgeben|gib\s+mir)\b[^.?!\n]{0,40}"
        r"\b(?:deine[nms]?|ihre[nms]?|den|die)\s+(?:\w+\s+)?(?:system-?prompt|systemanweisungen|"
        r"anweisungen|instruktionen|prompt|vorgaben)\b",
        r"\bsystem-?prompt\b",
    ),
    _p(
        "extraction",
        "fr",
        r"\b(?:révèle|revele|montre|affiche|répète|donne|dis-moi|écris)[sz]?\b[^.?!\n]{0,40}"
        r"\b(?:tes|vos|ton|votre|le|les)\s+(?:\w+\s+)?(?:prompt|instructions|consignes|"
        r"directives)\b",
        r"\bprompt\s+(?:système|systeme|initial)\b",
    ),
    _p(
        "extraction",
        "es",
        r"\b(?:revela|muestra|muéstrame|repite|dime|imprime|escribe)\b[^.?!\n]{0,40}"
        r"\b(?:tus|su|sus|tu|el|las)\s+(?:\w+\s+)?(?:prompt|instrucciones|indicaciones)\b",
        r"\bprompt\s+(?:del\s+sistema|de\s+sistema|inicial)\b",
    ),
    _p(
        "extraction",
        "it",
        r"\b(?:rivela|mostra|mostrami|ripeti|dimmi|stampa)\b[^.?!\n]{0,40}"
        r"\b(?:tue|le|il)\s+(?:\w+\s+)?(?:prompt|istruzioni)\b",
        r"\bprompt\s+di\s+sistema\b",
    ),
    _p(
        "extraction",
        "pt",
        r"\b(?:revele|mostre|mostra|repita|diga|imprima)\b[^.?!\n]{0,40}"
        r"\b(?:suas|seu|as|o)\s+(?:\w+\s+)?(?:prompt|instruções)\b",
        r"\bprompt\s+do\s+sistema\b",
    ),
    _p(
        "extraction",
        "nl",
        r"\b(?:toon|laat\s+zien|herhaal)\b[^.?!\n]{0,40}\b(?:instructies|systeemprompt|prompt)\b",
        r"\bsysteemprompt\b",
    ),
    _p(
        "extraction",
        "ru",
        r"(?:покажи|выведи|повтори|раскрой|напиши|скажи)[^.?!\n]{0,40}(?:системн\w*\s+(?:промпт|"
        r"подсказк|инструкци)|свои\s+инструкции|твои\s+инструкции|промпт)",
        r"системн\w*\s+промпт",
    ),
    _p(
        "extraction",
        "zh",
        r"(?:系统提示|系統提示|系统指令|初始指令|提示词|系统消息)",
        r"(?:显示|输出|重复|告诉我|打印|泄露)[^。\n]{0,15}(?:你的|您的)?(?:指令|指示|提示)",
    ),
    _p("extraction", "ja", r"(?:システムプロンプト|初期プロンプト|あなたの指示)"),
    _p("extraction", "ko", r"(?:시스템\s*프롬프트)"),
    # --- exfiltration through links and images -------------------------------------------
    _p(
        "exfiltration",
        "any",
        r"!\[[^\]\n]*\]\(\s*<?(?:https?:)?//",
        r"<img\b[^>]*\bsrc\s*=",
        r"\b(?:include|add|render|embed|append|insert|put|place|show|display|output|attach)\b"
        r"[^.\n]{0,60}\b(?:image|img|markdown|pixel|picture|iframe|beacon)\b"
        r"[^\n]{0,80}(?:https?:)?//",
        r"\b(?:send|post|upload|forward|transmit|exfiltrate|leak|submit|report)\b[^.\n]{0,60}"
        r"\b(?:to|at|via)\s+(?:this\s+)?(?:url|endpoint|server|webhook|address)?\s*:?\s*"
        r"<?(?:https?:)?//",
        r"https?://[^\s)\"'<>]+[?&][\w.-]+=\s*[\[{<(]\s*(?:data|secret|prompt|conversation|"
        r"history|system|user|answer|summary|email|message|context|chat)",
        r"https?://[^\s)\"'<>]+[?&][\w.-]+=\s*\$?\{[^}]+\}",
        r"\b(?:url-?encode|base64-?encode|encode)\b[^.\n]{0,60}\b(?:conversation|history|"
        r"prompt|instructions|data|answer)\b[^.\n]{0,60}\b(?:url|link|image)\b",
        r"<script\b",
        r"\bon(?:error|load|click|mouseover|focus)\s*=",
        r"\bjavascript\s*:",
    ),
]
PATTERNS: tuple[InjectionPattern, ...] = tuple(p for group in _GROUPS for p in group)
