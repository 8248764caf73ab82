"""Form fields drawn in Python: a label, an optional hint and the errors, each tied to its field
with aria-describedby; aria-invalid on a field with errors; a summary box linking to each field in
error. Plain HTML: everything works without JavaScript.

These were Jinja macros (``_forms.html`` for every form, ``teachers/_form.html`` for the teachers'
pages), and on a page with a form drawing them was the larger part of the request: each macro
call, each ``{% set %}`` and each call back into WTForms goes through Jinja's runtime (the
activity editor: two fifths of the page). The same text, byte for byte, written here: the
templates import these names from the same files as before (each file now exports the
functions), and ``tests/core/test_form_fields.py`` draws every field kind in every state with the
old macros (kept in ``tests/fixtures``) and with these, and compares them.

``_forms.html``:
    input(field, hint, type, autocomplete, inputmode, extra_by, **attrs)
      type/autocomplete/inputmode become attributes when given (type defaults to the widget's
      own); extra_by is the id of another element that also describes the field; any other
      keyword (e.g. placeholder, maxlength) is passed on to the field.
    checkbox(field, hint)  -- the label wraps the box; errors above, hint below.
    radios(field, hint, options)
      a radio group in a fieldset: the field's label is the legend, then the hint and errors,
      which every radio's aria-describedby points at. options: (value, label, hint) triples shown
      instead of the field's own choices, each with its own hint (e.g. the rights, explained).
    errors(field)          -- a field's error text, with the id aria-describedby points at.
    error_summary(form, problem)
      one box for everything wrong: ``problem`` (a refusal that names no field) first, then
      "Please check the form" with each field error linking to its field. Either may be empty.

``teachers/_form.html``: ``field(f)`` (the field's description as its hint), ``choices(f,
legend)`` (a fieldset of check boxes or radios) and ``summary(form, extra)``.

Values are escaped as Jinja's autoescaping escapes them (``markupsafe.escape``: what has
``__html__`` is written as it gives itself), and lists of errors joined as its ``join`` filter
joins them.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.widgets.core import CheckboxInput, RadioInput, clean_key

from app.core import i18n
from app.core.forms import html_params

_SPACE = Markup(" ")
_ = i18n.markup_gettext  # a template's _(): `make translations` finds the words


def _joined(items) -> Markup:
    """Jinja's ``join(" ")`` of a list, written out with autoescaping."""
    return _SPACE.join(items)


def _string(value):
    """Jinja's ``string`` filter: a string (Markup included) as it is, anything else ``str()``."""
    return value if isinstance(value, str) else str(value)


_OPTION_TYPES = {RadioInput: "radio", CheckboxInput: "checkbox"}
_OPTION_FLAGS = ("disabled", "required")  # what RadioInput and CheckboxInput write of a field's flags


def _options(field, attrs=None) -> list[tuple[str, Markup, object]]:
    """Each option of a field of radios or check boxes: its id, its ``<input>`` and its label's
    text, as iterating the field and calling each option gives them.

    WTForms builds each option as a field of its own (``SelectFieldBase.__iter__``: a label,
    flags from the validators, the meta bound), which was the larger part of drawing a list of
    check boxes. The same text is written here from the field's choices: the attributes its
    options' widget writes (``id``, ``type``, ``value``, ``name``, ``checked``, and ``required``
    or ``disabled`` from the validators' flags), the field's ``render_kw`` and ``attrs`` (as
    ``DefaultMeta.render_field`` merges them), through the same ``html_params``. A field drawn any
    other way (another option widget, its own iteration or meta) is iterated as WTForms does;
    ``tests/core/test_form_fields.py`` compares the two (WTForms is pinned at 3.3.2)."""
    kind = _OPTION_TYPES.get(type(field.option_widget))
    if (
        kind is None
        or type(field).__iter__ is not SelectFieldBase.__iter__
        or type(field)._Option is not SelectFieldBase._Option
        or type(field.meta).render_field is not DefaultMeta.render_field
    ):
        return [(option.id, option(**(attrs or {})), option.label.text) for option in field]
    given = {clean_key(k): v for k, v in (attrs or {}).items()}
    if field.render_kw:
        given = {clean_key(k): v for k, v in field.render_kw.items()} | given
    flags: dict = {}
    for source in (*field.validators, field.option_widget):
        flags.update(getattr(source, "field_flags", {}))
    for name in _OPTION_FLAGS:
        if flags.get(name) and name not in given:
            value = flags[name]
            given[name] = value() if callable(value) else value
    drawn = []
    for i, choice in enumerate(field._iter_choices_normalized()):
        option_id = f"{field.id}-{i}"
        kwargs = dict(given)
        if choice.selected:
            kwargs.setdefault("checked", True)
        kwargs.setdefault("id", option_id)
        kwargs.setdefault("type", kind)
        kwargs.setdefault("value", str(choice.value))
        drawn.append(
            (
                option_id,
                Markup(f"<input {html_params(name=field.name, **kwargs)}>"),
                choice.label or choice.value,
            )
        )
    return drawn


def _described_by(field, hint=None, extra_by=None) -> Markup:
    ids = []
    if hint:
        ids.append(field.id + "-hint")
    if field.errors:
        ids.append(field.id + "-error")
    if extra_by:
        ids.append(extra_by)
    return escape(" ".join(ids))


def _hint(field, hint) -> Markup | str:
    return Markup(f'<span class="hint" id="{escape(field.id)}-hint">{escape(hint)}</span>') if hint else ""


def errors(field) -> Markup:
    """A field's error text, with the id aria-describedby points at."""
    if not field.errors:
        return Markup("")
    text = _joined(_string(error) for error in field.errors)
    return Markup(f'<p class="field-error" id="{escape(field.id)}-error">{text}</p>')


def _aria(field, hint=None, extra_by=None) -> dict:
    attrs: dict[str, str] = {}
    by = _described_by(field, hint, extra_by)
    if by:
        attrs["aria-describedby"] = by
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


def input(field, hint=None, type=None, autocomplete=None, inputmode=None, extra_by=None, **attrs) -> Markup:  # noqa: A002 - the macro's own names
    """A field with its label, hint and errors."""
    if type:
        attrs["type"] = type
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if inputmode:
        attrs["inputmode"] = inputmode
    attrs.update(_aria(field, hint, extra_by))
    return Markup(
        f'<div class="field">\n  {escape(field.label)}\n  {_hint(field, hint)}\n'
        f"  {errors(field)}\n  {escape(field(**attrs))}\n</div>"
    )


def checkbox(field, hint=None) -> Markup:
    """A check box inside its label; errors above, hint below."""
    return Markup(
        f'<div class="field">\n  {errors(field)}\n  <label class="check" for="{escape(field.id)}">'
        f"{escape(field(**_aria(field, hint)))} <span>{escape(field.label.text)}</span></label>\n"
        f"  {_hint(field, hint)}\n</div>"
    )


def radios(field, hint=None, options=None) -> Markup:
    """A radio group in a fieldset, the field's own choices or ``options``' (value, label, hint)."""
    attrs = _aria(field, hint)
    by = attrs.get("aria-describedby", Markup(""))
    parts = [
        f'<fieldset id="{escape(field.id)}" tabindex="-1">\n  <legend>{escape(field.label.text)}</legend>\n'
        f"  {_hint(field, hint)}\n  {errors(field)}"
    ]
    if options:
        required = " required" if field.flags.required else ""
        invalid = ' aria-invalid="true"' if field.errors else ""
        for value, title, text in options:
            id_ = escape(f"{field.id}-{value}")
            checked = " checked" if field.data == value else ""
            described = (id_ + Markup("-hint ") + by).strip()
            parts.append(
                f'\n  <label class="check" for="{id_}"><input type="radio" id="{id_}" '
                f'name="{escape(field.name)}" value="{escape(value)}"{checked}{required} '
                f'aria-describedby="{described}"{invalid}>\n'
                f'    <span>{escape(title)}<span class="hint" id="{id_}-hint">{escape(text)}</span></span></label>'
            )
    else:
        parts.append("\n  ")
        parts += [
            f'<label class="check" for="{escape(option_id)}">{escape(drawn)} <span>{escape(text)}</span></label>'
            for option_id, drawn, text in _options(field, attrs)
        ]
    parts.append("\n</fieldset>")
    return Markup("".join(parts))


def error_summary(form=None, problem=None) -> Markup:
    """One box for everything wrong: ``problem`` first, then each field's errors, linked."""
    field_errors = form.errors if form is not None else {}
    if not (problem or field_errors):
        return Markup("")
    parts = ['\n<div class="error" role="alert" tabindex="-1" autofocus>']
    if problem:
        parts.append(f"\n  <p>{escape(problem)}</p>")
    if field_errors:
        items = []
        for name, found in field_errors.items():
            for error in found:
                text = escape(_string(error))
                linked = name and name in form
                items.append(
                    f'<li><a href="#{escape(form[name].id)}">{text}</a></li>'
                    if linked
                    else f"<li>{text}</li>"
                )
        parts.append(
            f"\n  <p><strong>{_('Please check the form:')}</strong></p>\n  <ul>{''.join(items)}</ul>"
        )
    parts.append("\n</div>\n")
    return Markup("".join(parts))


# --- the teachers' forms (teachers/_form.html) -----------------------------------------------


def _teacher_described_by(f) -> Markup:
    ids = ([f.id + "-hint"] if f.description else []) + ([f.id + "-error"] if f.errors else [])
    return escape(" ".join(ids))


def _teacher_errors(f) -> str:
    if not f.errors:
        return ""
    return f'<span class="field-error" id="{escape(f.id)}-error">{_joined(f.errors)}</span>'


def field(f) -> Markup:
    """A field with its label, its description as the hint, and its errors."""
    hint = (
        f'<span class="hint" id="{escape(f.id)}-hint">{escape(f.description)}</span>' if f.description else ""
    )
    by = _teacher_described_by(f)
    if f.errors:
        drawn = f(aria_describedby=by, aria_invalid="true")
    elif by:
        drawn = f(aria_describedby=by)
    else:
        drawn = f()
    return Markup(
        f'<div class="field{" has-error" if f.errors else ""}">\n  {escape(f.label())}\n  {hint}\n'
        f"  {_teacher_errors(f)}\n  \n  {escape(drawn)}\n</div>"
    )


def choices(f, legend=None) -> Markup:
    """A fieldset of the field's check boxes (or radios), ``legend`` or its label the legend."""
    invalid = f' aria-describedby="{escape(f.id)}-error"' if f.errors else ""
    hint = f'<span class="hint">{escape(f.description)}</span>' if f.description else ""
    options = "".join(
        f'<label class="check">{escape(drawn)} {escape(text)}</label>' for _, drawn, text in _options(f)
    )
    return Markup(
        f'<fieldset class="field{" has-error" if f.errors else ""}" id="{escape(f.id)}"{invalid}>\n'
        f"  <legend>{escape(legend or f.label.text)}</legend>\n  {hint}\n  {_teacher_errors(f)}\n"
        f"  {options}\n</fieldset>"
    )


def summary(form, extra=None) -> Markup:
    """Every error of a form, at the top, each linking to its field."""
    fields = [f for f in form if f.errors]
    if not (fields or extra):
        return Markup("\n")
    items = "".join(
        f'<li><a href="#{escape(f.id)}">{escape(f.label.text)}: {_joined(f.errors)}</a></li>' for f in fields
    )
    more = f"<li>{escape(extra)}</li>" if extra else ""
    return Markup(
        '\n\n<div class="error" role="alert" tabindex="-1" id="error-summary">\n'
        "  <p><strong>Please check the form:</strong></p>\n  <ul>\n"
        f"  {items}\n  {more}\n  </ul>\n</div>\n"
    )
