"""Form fields: one widget per input declaration, chosen from the table :data:`FIELD_KINDS`.

A field shows a label (the title, ``*`` when required), its control, the declaration's
description as help, and the message of the last check. It reads its control as a JSON
value, or :data:`EMPTY` when nothing is given (the input's default then applies). A value
its control cannot show (a date that does not exist, a choice no longer offered) is held
as it is until the user changes the field, so the engine's check can say what is wrong.
"""

import datetime
import html
import json
import math
from collections.abc import Callable

import ipywidgets
from traitlets import TraitError

EMPTY = object()  # nothing given: the input's default applies
ERROR_COLOUR = "#c62828"  # messages and required marks
_NOTHING_HELD = object()


class UnreadableValue(ValueError):
    """What the user typed cannot be read as a value (e.g. text that is not JSON)."""


class Field:
    """One input of a form; subclasses say which control and how it maps to JSON values."""

    can_be_empty = True  # whether the control has a state meaning "nothing given"

    def __init__(self, name: str, declaration: dict, *, optional: bool = False):
        self.name, self.declaration = name, declaration
        self.required = "default" not in declaration and not optional
        self.control = self.make_control()
        self.message = ipywidgets.HTML(_dom_classes=["jw-field-error"], style={"text_color": ERROR_COLOUR})
        star = f' <span class="jw-required" title="required" style="color:{ERROR_COLOUR}">*</span>' if self.required else ""
        label = ipywidgets.HTML(f"<b>{html.escape(declaration.get('title') or name)}</b>{star}",
                                _dom_classes=["jw-field-label"])
        help_text = ipywidgets.HTML(html.escape(declaration.get("description", "")), _dom_classes=["jw-field-help"])
        self.box = ipywidgets.VBox([label, self.control, help_text, self.message],
                                   _dom_classes=["jw-field", f"jw-field-{name}"])
        self._held = _NOTHING_HELD
        self.reset()

    def make_control(self) -> ipywidgets.ValueWidget:
        raise NotImplementedError

    def show(self, value) -> None:
        """Put ``value`` (or :data:`EMPTY`) in the control; ValueError, TypeError or TraitError if it cannot."""
        raise NotImplementedError

    def value(self):
        """The control's value as JSON, or :data:`EMPTY`."""
        raise NotImplementedError

    def fill(self, value) -> None:
        """Show ``value``; hold it as it is if the control cannot show it."""
        try:
            self.show(value)
            held = _NOTHING_HELD
        except (ValueError, TypeError, TraitError):
            if self.can_be_empty:
                self.show(EMPTY)
            held = value
        self._held = held  # set last: showing a value clears what was held

    def reset(self) -> None:
        """Back to the default, or to nothing given."""
        self.fill(self.declaration["default"] if "default" in self.declaration else EMPTY)

    def read(self):
        """The field's value: JSON, or :data:`EMPTY`; :class:`UnreadableValue` for text that is not a value."""
        return self.value() if self._held is _NOTHING_HELD else self._held

    def on_change(self, callback) -> None:
        """Call ``callback()`` whenever the user changes the field."""

        def changed(_change):
            self._held = _NOTHING_HELD
            callback()

        self.control.observe(changed, "value")

    def show_message(self, text: str) -> None:
        """Show ``text`` under the control (empty: no message)."""
        self.message.value = html.escape(text)


class TextField(Field):
    """A string on one line."""

    widget = ipywidgets.Text

    def make_control(self):
        return self.widget(continuous_update=True)

    def show(self, value):
        if value is not EMPTY and not isinstance(value, str):
            raise TypeError(value)
        self.control.value = "" if value is EMPTY else value

    def value(self):
        return self.control.value or EMPTY


class TextAreaField(TextField):
    """A string on several lines (``"multiline": true``)."""

    widget = ipywidgets.Textarea


class SecretField(TextField):
    """A secret (``"secret": true``): typed in a password box."""

    widget = ipywidgets.Password


class JsonField(TextField):
    """Any other value (a list, an object), typed as JSON."""

    widget = ipywidgets.Textarea

    def show(self, value):
        self.control.value = "" if value is EMPTY or value is None else json.dumps(value, indent=2)

    def value(self):
        text = self.control.value.strip()
        if not text:
            return EMPTY
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise UnreadableValue(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None


class PlainField(Field):
    """A control whose value is the JSON value itself (a number, a boolean), with no empty state."""

    can_be_empty = False

    def accepts(self, value) -> bool:
        """Whether the control can hold ``value``."""
        raise NotImplementedError

    def show(self, value):
        if value is EMPTY or not self.accepts(value):
            raise TypeError(value)
        self.control.value = value

    def value(self):
        return self.control.value


class NumberField(PlainField):
    """An integer or a number with a default, in a number box."""

    def make_control(self):
        widget = ipywidgets.IntText if self.declaration.get("type") == "integer" else ipywidgets.FloatText
        return widget(continuous_update=True)

    def accepts(self, value):
        kinds = int if self.declaration.get("type") == "integer" else (int, float)
        return isinstance(value, kinds) and not isinstance(value, bool)


class SliderField(NumberField):
    """A number with both a ``minimum`` and a ``maximum``: a slider."""

    def make_control(self):
        low, high = self.declaration["minimum"], self.declaration["maximum"]
        if self.declaration.get("type") == "integer":
            return ipywidgets.IntSlider(min=low, max=high, continuous_update=True)
        return ipywidgets.FloatSlider(min=low, max=high, step=(high - low) / 100, continuous_update=True,
                                      readout_format=".6")  # d3: significant digits, no trailing zeros

    def show(self, value):
        super().show(value)
        if self.control.value != value:  # the slider kept it within its bounds
            raise ValueError(value)


class TypedNumberField(TextField):
    """A number without default, typed in a text box that starts empty (a number box would show 0 as if given)."""

    def show(self, value):
        if value is not EMPTY and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(value)
        self.control.value = "" if value is EMPTY else json.dumps(value)

    def value(self):
        text = self.control.value.strip()
        if not text:
            return EMPTY
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise UnreadableValue("not a number") from None
        if not math.isfinite(number):
            raise UnreadableValue("not a finite number")
        if self.declaration.get("type") != "integer":
            return number
        if not number.is_integer():
            raise UnreadableValue("not a whole number")
        return int(number)


class YesNoField(Field):
    """A boolean without default: Yes or No, neither chosen at first (a checkbox would show No as if given)."""

    def make_control(self):
        return ipywidgets.ToggleButtons(options=[("Yes", True), ("No", False)], value=None)

    def show(self, value):
        if value is not EMPTY and not isinstance(value, bool):
            raise TypeError(value)
        self.control.value = None if value is EMPTY else value

    def value(self):
        return EMPTY if self.control.value is None else self.control.value


class CheckboxField(PlainField):
    """A boolean."""

    def make_control(self):
        return ipywidgets.Checkbox(indent=False)

    def accepts(self, value):
        return isinstance(value, bool)


class ChoiceField(Field):
    """One of the ``enum`` values, in a dropdown; the values keep their JSON types."""

    def make_control(self):
        choices = self.declaration["enum"]
        labels = [choice if isinstance(choice, str) else json.dumps(choice) for choice in choices]
        return ipywidgets.Dropdown(options=list(zip(labels, range(len(choices)))), value=None)

    def show(self, value):
        if value is EMPTY:
            self.control.value = None
            return
        choices = self.declaration["enum"]
        same = [index for index, choice in enumerate(choices) if choice == value and type(choice) is type(value)]
        if not same:
            raise ValueError(value)
        self.control.value = same[0]

    def value(self):
        index = self.control.value
        return EMPTY if index is None else self.declaration["enum"][index]


class TagsField(Field):
    """A list of strings, typed as tags (from ``items.enum`` when given)."""

    def make_control(self):
        return ipywidgets.TagsInput(allowed_tags=self.declaration.get("items", {}).get("enum", []),
                                    allow_duplicates=False)

    def show(self, value):
        if value is not EMPTY and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            raise TypeError(value)
        self.control.value = [] if value is EMPTY else value

    def value(self):
        return list(self.control.value) or EMPTY


class DateField(Field):
    """A date (``"format": "date"``), sent as ``YYYY-MM-DD``."""

    widget, parse = ipywidgets.DatePicker, staticmethod(datetime.date.fromisoformat)

    def make_control(self):
        return self.widget()

    def show(self, value):
        self.control.value = None if value is EMPTY else self.parse(value)

    def value(self):
        return EMPTY if self.control.value is None else self.control.value.isoformat()


class DateTimeField(DateField):
    """A date and time with its time zone (``"format": "date-time"``), sent as ISO 8601."""

    widget, parse = ipywidgets.DatetimePicker, staticmethod(datetime.datetime.fromisoformat)


class FileField(Field):
    """A file to upload (``"format": "file"``, ``accept``); its value is a path once the run has it.

    For checking, an uploaded file stands as its name; a path from an earlier run is held as given.
    """

    def make_control(self):
        return ipywidgets.FileUpload(accept=self.declaration.get("accept", ""), multiple=False)

    def show(self, value):
        if value is not EMPTY:
            raise ValueError(value)
        self.control.value = ()

    def value(self):
        return self.control.value[0]["name"] if self.control.value else EMPTY

    def upload(self) -> tuple[str, bytes] | None:
        """The uploaded file's name and bytes, if one was uploaded."""
        if self._held is not _NOTHING_HELD or not self.control.value:
            return None
        uploaded = self.control.value[0]
        return uploaded["name"], bytes(uploaded["content"])


SLIDER_STEPS = 1000  # an integer range wider than this (a port number) is typed, not slid


def _is_number(declaration: dict) -> bool:
    return declaration.get("type") in ("integer", "number")


def _is_range(declaration: dict) -> bool:
    """A number with both bounds, an integer one with at most :data:`SLIDER_STEPS` values between."""
    if not (_is_number(declaration) and "minimum" in declaration and "maximum" in declaration):
        return False
    return declaration["type"] == "number" or declaration["maximum"] - declaration["minimum"] <= SLIDER_STEPS


# Declaration → field, first match wins.
FIELD_KINDS: list[tuple[Callable[[dict], bool], type[Field]]] = [
    (lambda d: d.get("format") == "file", FileField),
    (lambda d: d.get("secret") is True, SecretField),
    (lambda d: "enum" in d, ChoiceField),
    (lambda d: d.get("type") == "array" and d.get("items", {}).get("type") == "string", TagsField),
    (lambda d: d.get("format") == "date", DateField),
    (lambda d: d.get("format") == "date-time", DateTimeField),
    (lambda d: d.get("type") == "boolean" and "default" not in d, YesNoField),
    (lambda d: d.get("type") == "boolean", CheckboxField),
    (_is_range, SliderField),
    (lambda d: _is_number(d) and "default" not in d, TypedNumberField),
    (_is_number, NumberField),
    (lambda d: d.get("type") == "string" and d.get("multiline") is True, TextAreaField),
    (lambda d: d.get("type") == "string", TextField),
    (lambda d: True, JsonField),
]


def make_field(name: str, declaration: dict, *, optional: bool = False) -> Field:
    """The field for an input declaration (see :data:`FIELD_KINDS`)."""
    kind = next(kind for matches, kind in FIELD_KINDS if matches(declaration))
    return kind(name, declaration, optional=optional)
