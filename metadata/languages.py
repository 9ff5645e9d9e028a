"""Language tags: normalise what repositories write, and guess the language of a text.

Repositories write ``eng``, ``en``, ``English``, ``en_GB``, ``fre``, ``fr-CA``,
``中文``, ``zh-Hans`` ... for the same few languages.  The profile keys text by the
primary BCP 47 subtag (``en``, ``zh``, ``fr``): region and script are dropped, because
a learner searching for Chinese courses wants ``zh-CN`` and ``zh-TW`` alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

# ISO 639-1 codes (the two-letter primary subtags of BCP 47).
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu"""
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())

# Deprecated two-letter codes still seen in old records.
_DEPRECATED = {"iw": "he", "in": "id", "ji": "yi", "mo": "ro"}

# ISO 639-2 bibliographic (B) and terminology (T) codes → ISO 639-1, for the
# languages repositories actually use.
_ISO_639_2 = {
    "eng": "en", "chi": "zh", "zho": "zh", "fre": "fr", "fra": "fr", "ger": "de",
    "deu": "de", "spa": "es", "jpn": "ja", "kor": "ko", "rus": "ru", "por": "pt",
    "ita": "it", "cze": "cs", "ces": "cs", "dut": "nl", "nld": "nl", "ara": "ar",
    "hin": "hi", "pol": "pl", "swe": "sv", "nor": "no", "nob": "nb", "nno": "nn",
    "dan": "da", "fin": "fi", "tur": "tr", "gre": "el", "ell": "el", "vie": "vi",
    "tha": "th", "ind": "id", "may": "ms", "msa": "ms", "heb": "he", "ukr": "uk",
    "hun": "hu", "rum": "ro", "ron": "ro", "bul": "bg", "hrv": "hr", "srp": "sr",
    "slo": "sk", "slk": "sk", "slv": "sl", "cat": "ca", "baq": "eu", "eus": "eu",
    "glg": "gl", "wel": "cy", "cym": "cy", "gle": "ga", "ice": "is", "isl": "is",
    "est": "et", "lav": "lv", "lit": "lt", "per": "fa", "fas": "fa", "urd": "ur",
    "ben": "bn", "tam": "ta", "tib": "bo", "bod": "bo", "uig": "ug", "mon": "mn",
    "lat": "la", "epo": "eo", "afr": "af", "swa": "sw", "mao": "mi", "mri": "mi",
    "arm": "hy", "hye": "hy", "geo": "ka", "kat": "ka", "alb": "sq", "sqi": "sq",
    "mac": "mk", "mkd": "mk", "bur": "my", "mya": "my", "khm": "km", "lao": "lo",
    "kaz": "kk", "uzb": "uz", "tgl": "tl", "fil": "tl",
}  # fmt: skip

# Special ISO 639-2 codes kept as they are.
_SPECIAL = {"zxx", "mul", "und"}

# Language names, in English and in the language itself (and in Chinese).
_NAMES = {
    "english": "en", "英语": "en", "英文": "en", "英語": "en",
    "chinese": "zh", "中文": "zh", "汉语": "zh", "漢語": "zh", "华语": "zh", "華語": "zh",
    "普通话": "zh", "普通話": "zh", "国语": "zh", "國語": "zh", "简体中文": "zh",
    "繁体中文": "zh", "繁體中文": "zh", "中文简体": "zh", "中文繁体": "zh", "mandarin": "zh",
    "simplified chinese": "zh", "traditional chinese": "zh",
    "french": "fr", "français": "fr", "francais": "fr", "法语": "fr", "法文": "fr",
    "german": "de", "deutsch": "de", "德语": "de", "德文": "de",
    "spanish": "es", "español": "es", "espanol": "es", "castellano": "es", "西班牙语": "es",
    "japanese": "ja", "日本語": "ja", "日语": "ja", "日文": "ja",
    "korean": "ko", "한국어": "ko", "韩语": "ko", "韩文": "ko", "朝鲜语": "ko",
    "russian": "ru", "русский": "ru", "俄语": "ru", "俄文": "ru",
    "portuguese": "pt", "português": "pt", "portugues": "pt", "葡萄牙语": "pt",
    "italian": "it", "italiano": "it", "意大利语": "it",
    "czech": "cs", "čeština": "cs", "cestina": "cs", "捷克语": "cs",
    "dutch": "nl", "nederlands": "nl", "荷兰语": "nl",
    "arabic": "ar", "العربية": "ar", "阿拉伯语": "ar",
    "polish": "pl", "polski": "pl", "swedish": "sv", "svenska": "sv", "greek": "el",
    "turkish": "tr", "türkçe": "tr", "vietnamese": "vi", "tiếng việt": "vi",
    "thai": "th", "泰语": "th", "indonesian": "id", "bahasa indonesia": "id",
    "latin": "la", "hindi": "hi", "ukrainian": "uk", "hungarian": "hu", "finnish": "fi",
    "danish": "da", "norwegian": "no", "catalan": "ca", "català": "ca", "hebrew": "he",
    "persian": "fa", "farsi": "fa", "malay": "ms", "tibetan": "bo", "藏语": "bo",
    "uyghur": "ug", "维吾尔语": "ug", "mongolian": "mn", "蒙古语": "mn",
    "no linguistic content": "zxx", "none": "zxx", "无": "zxx",
    "multiple languages": "mul", "multilingual": "mul", "多语种": "mul",
}  # fmt: skip

_SUBTAG_SPLIT = re.compile(r"[-_\s]+")


def normalise_language(value: str | None) -> str | None:
    """The primary language subtag for what a record says, or None if unrecognised.

    ``eng``/``en-US``/``en_GB``/``English`` → ``en``; ``chi``/``zho``/``zh-Hans``/
    ``中文``/``汉语`` → ``zh``; ``zxx``, ``mul`` and ``und`` are kept.
    """
    if value is None:
        return None
    return _normalise_language(value)


@lru_cache(maxsize=2048)
def _normalise_language(value: str) -> str | None:
    # Cached: a harvest repeats the same few spellings ("zh", "chi", "English") endlessly.
    text = unicodedata.normalize("NFC", value).strip().strip(".;,").casefold()
    if not text:
        return None
    if text in _NAMES:
        return _NAMES[text]
    primary = _SUBTAG_SPLIT.split(text, maxsplit=1)[0]
    code = _code(primary)
    if code is None:
        # "English (United States)", "Chinese, Mandarin"
        head = re.split(r"[(,（，]", text, maxsplit=1)[0].strip()
        code = _NAMES.get(head)
    return code


def _code(primary: str) -> str | None:
    if primary in _DEPRECATED:
        return _DEPRECATED[primary]
    if len(primary) == 2:
        return primary if primary in _ISO_639_1 else None
    if primary in _SPECIAL:
        return primary
    return _ISO_639_2.get(primary)


# --- guessing from the text ------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_CJK = frozenset({"zh", "ja", "ko"})


def _east_asian(text: str, latin_words: int) -> str | None:
    """``ja``, ``ko`` or ``zh`` when that script outweighs the Latin words; else None."""
    if text.isascii():
        return None
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    if kana and kana + han >= latin_words:
        return "ja"
    if hangul and hangul >= latin_words:
        return "ko"
    if han and han >= latin_words:
        return "zh"
    return None


_LATIN_WORD = re.compile(
    r"[A-Za-z\u00c0-\u024f]+(?:['\u2018\u2019\u02bb\u02bc][A-Za-z\u00c0-\u024f]+)*"
)

# A few very common function words per language: enough to tell a French or German
# title from an English one, the only confusion that matters for a zh/en catalogue.
_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "for", "with", "on", "is", "from", "by", "this",
           "that", "are", "an", "as", "at", "be", "which"},
    "fr": {"le", "la", "les", "des", "du", "et", "une", "pour", "dans", "sur", "au", "aux",
           "est", "par", "qui", "que", "en", "de", "un", "ce", "avec"},
    "de": {"der", "die", "das", "und", "ein", "eine", "mit", "für", "von", "zu", "im", "den",
           "ist", "auf", "dem", "des", "nicht", "sich", "zur", "zum"},
    "es": {"el", "la", "los", "las", "del", "una", "para", "con", "por", "en", "al", "es",
           "que", "de", "se", "un", "como", "su"},
    "it": {"il", "la", "gli", "della", "delle", "del", "una", "per", "con", "di", "nel",
           "che", "sono", "un", "dei", "è", "alla"},
    "pt": {"os", "da", "do", "das", "dos", "uma", "para", "com", "em", "no", "na", "que",
           "de", "um", "se", "ao", "não"},
    "nl": {"de", "het", "een", "en", "van", "voor", "met", "op", "in", "te", "zijn", "is",
           "dat", "die", "niet", "bij", "aan", "naar"},
}  # fmt: skip


def guess_text_language(text: str, hint: str | None = None) -> str:
    """A best guess of the language of ``text``: ``zh``, ``ja``, ``ko``, ``en`` ... or ``und``.

    Chinese when Han ideographs outnumber Latin words (``Python程序设计`` is Chinese);
    Japanese or Korean when kana or hangul appear.  For Latin script: English unless a
    handful of function words clearly say French, German, Spanish, Italian, Portuguese
    or Dutch.  ``hint`` (what the record says, e.g. its single ``dc:language``) is
    returned unless the text clearly contradicts it: Chinese script in a record said to
    be English, or an evidently English abstract in a record said to be Dutch.
    ``und`` when there is nothing to go on.
    """
    hint = hint if hint not in {None, "und", "zxx", "mul"} else None
    words = [w.casefold() for w in _LATIN_WORD.findall(text)]
    by_script = _east_asian(text, len(words))
    if by_script is not None:
        return by_script
    if not words:
        return hint or "und"
    counts = Counter(words)
    scores = {
        lang: sum(counts[w] for w in stop.intersection(counts)) for lang, stop in _STOPWORDS.items()
    }
    best = max(scores, key=lambda lang: scores[lang])
    if hint is not None and hint not in _CJK:
        # Trust the record unless the function words clearly say otherwise: English
        # prose is a quarter function words; a chance hit in Uzbek is not.
        clear = (
            scores[best] >= 3
            and scores[best] >= 0.1 * len(words)
            and scores[best] > 2 * scores.get(hint, 0)
        )
        return best if best != hint and clear else hint
    if best != "en" and scores[best] >= 2 and scores[best] > scores["en"]:
        return best
    return "en"
