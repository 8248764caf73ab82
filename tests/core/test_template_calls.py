"""The templates' context (``CallingContext``, app/core/application.py) calls what a template
names as Jinja's own does: the page's context, its evaluation context or the environment to the
functions that ask for them, loop and block variables to none, and a ``StopIteration`` drawn as
nothing."""

from __future__ import annotations

import jinja2
from jinja2 import pass_context, pass_environment, pass_eval_context

TEMPLATE = """
{%- macro line(n) %}[{{ n }}]{% endmacro -%}
{{ who() }} {{ page_of("x") }} {{ autoescaping() }} {{ env_name() }}
{%- for n in [1, 2] %} {{ add(n, step=n) }} {{ who() }} {{ person.greet(n) }} {{ line(n) }}{% endfor %}
{%- block body %} {{ add(3, step=4) }} {{ who() }}{% endblock %}
|{{ stop() }}|{{ len("four") }}|{{ callable_object(5) }}|{{ "<b>" }}
"""


class Person:
    def greet(self, n: int) -> str:
        return f"hello {n} <i>"


class Doubler:
    def __call__(self, n: int) -> int:
        return n * 2


class WithContext:
    @pass_context
    def __call__(self, ctx, n: int) -> str:
        return f"{ctx['name']}{n}"


def _values() -> dict:
    def add(n, step):
        return n + step

    def stop():
        raise StopIteration

    @pass_context
    def who(ctx):
        return ctx["name"]

    @pass_context
    def page_of(ctx, text):
        return f"{text} of {ctx['name']}"

    @pass_eval_context
    def autoescaping(eval_ctx):
        return eval_ctx.autoescape

    @pass_environment
    def env_name(env):
        return type(env).__mro__[-2].__name__

    return {
        "name": "Ana",
        "add": add,
        "stop": stop,
        "who": who,
        "page_of": page_of,
        "autoescaping": autoescaping,
        "env_name": env_name,
        "person": Person(),
        "len": len,
        "callable_object": Doubler(),
        "with_context": WithContext(),
    }


def test_a_template_draws_the_same_as_with_jinjas_own_context(app):
    ours = app.jinja_env.from_string(TEMPLATE + "{{ with_context(6) }}")
    jinjas = jinja2.Environment(autoescape=True).from_string(TEMPLATE + "{{ with_context(6) }}")
    drawn = ours.render(_values())
    assert drawn == jinjas.render(_values())
    assert drawn.startswith("Ana x of Ana True Environment 2 Ana hello 1 &lt;i&gt; [1] 4 Ana")
    assert "7 Ana||4|10|&lt;b&gt;" in drawn.replace("\n", "")
    assert drawn.endswith("Ana6")


def test_a_templates_globals_are_its_own_over_the_apps_and_follow_later_changes(app):
    """Each template's globals (``TemplateGlobals``: Jinja's ``ChainMap`` without a caught
    ``KeyError`` for every name): its own first, then the app's, and a global the app adds after
    the template was loaded is seen by it, as Jinja's own."""
    from app.core.application import TemplateGlobals

    env = app.jinja_env
    page = env.from_string(
        "{{ greeting }}|{{ csrf_token is defined }}|{{ later is defined }}|{{ nothing is defined }}",
        globals={"greeting": "hi"},
    )
    plain = env.from_string("{{ csrf_token is defined }}|{{ later is defined }}")  # none of its own
    assert isinstance(page.globals, TemplateGlobals)
    assert page.render() == "hi|True|False|False"
    assert plain.render() == "True|False"
    env.globals["later"] = "added"
    try:
        assert page.render() == "hi|True|True|False"
        assert plain.render() == "True|True"
        assert page.globals["later"] == "added" and "greeting" not in env.globals
    finally:
        del env.globals["later"]
    assert plain.render() == "True|False"


WRITTEN = """
{%- macro card(title) %}<h3>{{ title }}</h3>{{ caller() }}{% endmacro -%}
{{ text }}|{{ safe }}|{{ number }}|{{ nothing }}|{{ missing }}|{{ shown }}|{{ text ~ safe }}
{%- call card(text) %}<p>{{ text }}</p>{% endcall %}
{%- set inside %}<i>{{ text }}</i>{% endset %}|{{ inside }}|{{ inside | length }}
{%- filter upper %}|{{ text }}{% endfilter %}|{{ text | e }}|{{ safe | safe }}
"""


class Shown:
    def __html__(self) -> str:
        return "<b>as html</b>"

    def __str__(self) -> str:
        return "<b>as text</b>"


def test_what_a_template_writes_is_escaped_as_jinjas_own_escapes_it(app):
    """Templates write values through ``escape_output`` (one string, no ``Markup`` made for
    each): text a family typed is shown as text, markup as markup, in macros, blocks and filters
    as in the page itself, character for character as Jinja's own escaping."""
    from markupsafe import Markup

    values = {
        "text": "<script>alert('x') & \"y\"</script>",
        "safe": Markup("<em>kept</em>"),
        "number": 7,
        "nothing": None,
        "shown": Shown(),
    }
    ours = app.jinja_env.from_string(WRITTEN).render(values)
    jinjas = jinja2.Environment(autoescape=True).from_string(WRITTEN).render(values)
    assert ours == jinjas
    assert "<script>" not in ours and "&lt;script&gt;alert(&#39;x&#39;) &amp; &#34;y&#34;" in ours
    assert "<em>kept</em>" in ours and "<b>as html</b>" in ours and "|7|None||" in ours
