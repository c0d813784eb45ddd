"""Contact identifiers: every disguise of one contact normalises to the same value, with its span; prices,
dates and codes are not phones."""
import pytest

from wildwatch import contacts

TZ_PHONE = "+255712345678"


@pytest.mark.parametrize("text,language", [
    ("Piga 0712 345 678", "sw"),
    ("+255 712-345-678", "en"),
    ("(0712) 345678", "en"),
    ("simu: sifuri saba moja mbili tatu nne tano sita saba nane", "sw"),
    ("call zero seven one two three four five six seven eight", "en"),
    ("０７１２３４５６７８", "sw"),
    ("Tel O7l2 345 678", "en"),
    ("call 0.7.1.2.3.4.5.6.7.8 now", "en"),
    ("0 7 1 2 3 4 5 6 7 8", "en"),
    ("WhatsApp 0712345678", "en"),
    ("wa.me/255712345678", "en"),
])
def test_every_disguise_of_a_phone_number_normalises_to_one_e164_value(text, language):
    found = [c for c in contacts.extract(text, "description", "TZ", language) if c.kind == "phone"]
    assert [c.value for c in found] == [TZ_PHONE]
    c = found[0]
    # the span covers the digits as written, so the item page can highlight them
    assert any(ch.isdigit() or ch.isalpha() for ch in text[c.start:c.end])
    assert text[c.start:c.end].strip() == text[c.start:c.end]


@pytest.mark.parametrize("text,kind,value", [
    ("加微信: laozhang_888 看货", "wechat", "laozhang_888"),
    ("V信 LaoZhang_888", "wechat", "laozhang_888"),
    ("vx：laozhang_888", "wechat", "laozhang_888"),
    ("薇信 laozhang_888", "wechat", "laozhang_888"),
    ("微信 laozhang", "wechat", "laozhang"),
    ("QQ 12345678", "qq", "12345678"),
    ("扣扣：12345678", "qq", "12345678"),
    ("Zalo 0912 345 678", "zalo", "+84912345678"),
    ("V信：ｉｖｏｒｙ＿ｖｎ８８", "wechat", "ivory_vn88"),  # typed full-width with a CJK input method
    ("ＷｅＣｈａｔ ｉｖｏｒｙ＿ｖｎ８８", "wechat", "ivory_vn88"),
    ("LH 0912 345 678 (Zalo)", "zalo", "+84912345678"),  # the cue after the number
    ("0712 345 678 - WhatsApp", "whatsapp", "+255712345678"),
    ("telegram @ivory_king", "telegram", "ivory_king"),
    ("https://t.me/ivory_king", "telegram", "ivory_king"),
    ("Line ID: ivoryking", "line", "ivoryking"),
    ("mail juma (at) gmail dot com", "email", "juma@gmail.com"),
    ("Juma.M@Gmail.com", "email", "juma.m@gmail.com"),
    ("more at https://www.myshop.example/ivory?ref=1.", "url", "myshop.example/ivory"),
])
def test_messenger_ids_emails_and_outside_shops(text, kind, value):
    region = {"wechat": "CN", "qq": "CN", "zalo": "VN"}.get(kind, "TZ")
    if "(Zalo)" in text:  # and the number is a phone as well
        assert ("phone", value) in [(c.kind, c.value) for c in contacts.extract(text, "d", region, None)]
    found = contacts.extract(text, "description", region, None)
    assert (kind, value) in [(c.kind, c.value) for c in found], found


def test_a_messenger_account_that_is_a_phone_links_with_that_phone():
    whatsapp = [c for c in contacts.extract("WhatsApp 0712345678", "d", "TZ", "en") if c.kind == "whatsapp"]
    phone = contacts.extract("simu 0712 345 678", "d", "TZ", "sw")
    assert whatsapp[0].key == phone[0].key == f"phone:{TZ_PHONE}"
    assert contacts.extract("wechat: laozhang_888", "d", "CN", "zh")[0].key == "wechat:laozhang_888"


@pytest.mark.parametrize("text,region,language", [
    ("Bei 450000 TSh, tarehe 2026-11-03, code 7123456", "TZ", "sw"),
    ("Giá 1.500.000đ, mã 20261103, ngày 03/11/2026", "VN", "vi"),
    ("Prix 45 000 FCFA, réf. 2026/11/03, taille 38", "CM", "fr"),
    ("价格 4653000 日期 20261103 尺寸 12x30", "CN", "zh"),
    ("one or two pieces, three sizes", "TZ", "en"),
    ("WhatsApp only, WeChat please", "CN", "en"),
    ("Old oil lamp, call online", "TZ", "en"),
    ("email me at the shop", "TZ", "en"),
])
def test_prices_dates_codes_and_words_are_not_contacts(text, region, language):
    assert contacts.extract(text, "description", region, language) == []


def test_the_marketplaces_own_links_are_not_outside_shops():
    text = "see https://www.sokoni.example/item/3 and http://other.example/shop"
    found = contacts.extract(text, "description", "TZ", "en", own_domain="sokoni.example")
    assert [(c.kind, c.value) for c in found] == [("url", "other.example/shop")]


def test_hostile_and_huge_text_is_handled():
    text = "<script>alert(1)</script> " + "9 " * 20_000 + "\x00 WeChat: \u202eevil_id"
    found = contacts.extract(text, "description", "CN", "zh")
    assert all(c.end <= len(text) for c in found)
    assert contacts.extract(None, "title", "TZ", "sw") == [] and contacts.extract("", "title", "TZ", "sw") == []
