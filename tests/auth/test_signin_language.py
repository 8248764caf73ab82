"""The sign-in pages and their validation messages speak the visitor's language."""

from __future__ import annotations


def test_the_sign_in_page_is_in_the_browsers_language(client):
    page = client.get("/auth/signin", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).get_data(as_text=True)
    assert "<h1>Zaloguj się</h1>" in page and "Nie pamiętasz hasła?" in page


def test_a_mistyped_mobile_is_explained_in_urdu(client):
    r = client.post("/auth/code", data={"mobile": "01632 960123"}, headers={"Accept-Language": "ur"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "برطانیہ کا موبائل نمبر لکھیں، جیسے 07700 900123۔" in page and 'dir="rtl"' in page
