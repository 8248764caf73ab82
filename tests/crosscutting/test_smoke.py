import sqlalchemy as sa

from tests import factories as f


def test_index_page_renders_with_privacy_footer(client):
    f.school(dpo_email="dpo@demo.example", dpo_name="Dana")
    r = client.get("/")
    assert r.status_code == 200
    assert b"dpo@demo.example" in r.data
    assert b"Complain to the ICO" in r.data


def test_database_is_postgresql(app, ctx):
    from app.core.extensions import db

    assert db.engine.dialect.name == "postgresql"
    assert db.session.scalar(sa.text("select 1")) == 1
