"""A stored message (a failed job's error): its code and params survive JSON, and it is
said in the language it is rendered in, the messages among its params too."""

from django.utils import translation

from core.messages import Message


def answer_invalid():
    problem = Message("job.service.answer_problem", {"field": "income", "problem": Message("field.expected_object")})
    return Message("job.service.answer_invalid", {"problems": [problem]})


def test_a_message_survives_json_and_an_unknown_code_is_none():
    message = answer_invalid()
    assert Message.from_json(message.as_json()) == message
    assert Message.from_json({"code": "job.no_longer_a_code", "params": {}}) is None
    assert Message.from_json(None) is None


def test_the_messages_among_its_params_are_said_in_its_language():
    message = answer_invalid()
    assert str(message) == "the answer does not meet the task's form: field income: expected an object"
    with translation.override("nb"):
        bokmal = message.render(translation.gettext)
    assert bokmal.startswith("svaret passer ikke med skjemaet til oppgaven: feltet income: ")
    assert "expected" not in bokmal


def test_map_text_reaches_every_text_among_the_params():
    message = Message("job.webhook.refused", {"reason": Message("job.address.unresolved", {"detail": "Ola"})})
    assert "Ola" not in str(message.map_text(lambda text: text.replace("Ola", "…")))
