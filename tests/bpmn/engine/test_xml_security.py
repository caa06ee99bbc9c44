"""Hardened XML loading: hostile uploads are refused before or while parsing."""

from pathlib import Path

import pytest
from lxml import etree

from bpmn.engine.errors import BpmnValidationError
from bpmn.engine.xml import MAX_BPMN_BYTES, element_line, parse_bpmn_xml
from tests.bpmn.engine.bpmn_snippets import definitions, valid_model
from tests.timing import cpu_time

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _refused(data, **kwargs):
    with pytest.raises(BpmnValidationError) as info:
        parse_bpmn_xml(data, **kwargs)
    assert len(info.value.issues) == 1
    return info.value, info.value.issues[0]


def _everything_said(error: BpmnValidationError) -> str:
    parts = [str(error), repr(error)]
    for issue in error.issues:
        parts.extend([str(issue), repr(issue), repr(issue.as_dict())])
    return "\n".join(parts)


def test_valid_model_parses_to_definitions_root():
    root = parse_bpmn_xml(valid_model().encode())
    assert root.tag == f"{{{BPMN_NS}}}definitions"
    assert root.find(f"{{{BPMN_NS}}}process").get("id") == "Proc_valid"


def test_str_input_with_encoding_declaration_is_accepted():
    xml = valid_model().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert xml.startswith("<?xml")
    root = parse_bpmn_xml(xml)
    assert root.tag == f"{{{BPMN_NS}}}definitions"


@pytest.mark.parametrize("secret_file", ["/etc/hostname", "/etc/passwd"])
def test_xxe_to_local_file_is_refused_and_content_never_leaks(secret_file):
    path = Path(secret_file)
    secret = path.read_text().strip() if path.exists() else ""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D">\n'
        '  <bpmn:process id="P_&xxe;" name="&xxe;" isExecutable="true">\n'
        "    <bpmn:documentation>&xxe;</bpmn:documentation>\n"
        "  </bpmn:process>\n"
        "</bpmn:definitions>\n"
    )
    error, issue = _refused(xml.encode(), filename="evil.bpmn")
    assert issue.code == "doctype"
    assert "DOCTYPE" in issue.message and "evil.bpmn" in issue.message
    if secret:
        assert secret not in _everything_said(error)


def test_xxe_in_utf16_is_refused():
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D">&xxe;</bpmn:definitions>\n'
    )
    _, issue = _refused(xml.encode("utf-16"))
    assert issue.code == "doctype"


def test_billion_laughs_is_refused_quickly():
    entities = ['<!ENTITY lol "lol">']
    for level in range(1, 10):
        previous = f"&lol{level - 1};" if level > 1 else "&lol;"
        entities.append(f'<!ENTITY lol{level} "{previous * 10}">')
    xml = (
        '<?xml version="1.0"?>\n'
        f"<!DOCTYPE lolz [{''.join(entities)}]>\n"
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D">&lol9;</bpmn:definitions>\n'
    )
    with cpu_time() as used:
        _, issue = _refused(xml.encode())
    assert used.seconds < 1.0
    assert issue.code == "doctype"
    assert "entities" in issue.message


def test_plain_doctype_is_refused():
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE definitions>\n<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D"/>\n'
    _, issue = _refused(xml)
    assert issue.code == "doctype"
    assert "DOCTYPE" in issue.message


def test_external_dtd_reference_is_refused():
    xml = (
        '<!DOCTYPE definitions SYSTEM "http://example.invalid/bpmn.dtd">\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D"/>\n'
    )
    _, issue = _refused(xml)
    assert issue.code == "doctype"


def test_oversized_input_is_refused_before_parsing():
    padding = MAX_BPMN_BYTES + 1 - len(definitions("").encode())
    # Not even well-formed: proves the size is checked before the parser runs.
    data = definitions("").encode() + b"<" * padding
    assert len(data) == MAX_BPMN_BYTES + 1
    _, issue = _refused(data, filename="huge.bpmn")
    assert issue.code == "too-large"
    assert str(MAX_BPMN_BYTES) in issue.message and "huge.bpmn" in issue.message
    assert "larger than the limit" in issue.message


def test_input_at_the_limit_is_accepted():
    head = definitions("").encode()
    comment = b"<!--" + b"x" * (MAX_BPMN_BYTES - len(head) - 7) + b"-->"
    data = head + comment
    assert len(data) == MAX_BPMN_BYTES
    assert parse_bpmn_xml(data).tag == f"{{{BPMN_NS}}}definitions"


def test_oversized_str_is_refused():
    _, issue = _refused("x" * (MAX_BPMN_BYTES + 1))
    assert issue.code == "too-large"


def test_not_well_formed_reports_the_line():
    xml = definitions(
        """
        <bpmn:process id="P" isExecutable="true">
          <bpmn:userTask id="T">
        </bpmn:process>
        """
    )
    _, issue = _refused(xml, filename="broken.bpmn")
    assert issue.code == "not-well-formed"
    assert issue.line == 5
    assert "not well-formed" in issue.message and "broken.bpmn" in issue.message
    assert "mismatch" in issue.message


def test_empty_input_is_not_well_formed():
    _, issue = _refused(b"  \n")
    assert issue.code == "not-well-formed"
    assert "empty" in issue.message


def test_wrong_namespace_names_the_namespace_found():
    xml = '<definitions xmlns="http://www.omg.org/bpmn20" id="D"/>'
    _, issue = _refused(xml)
    assert issue.code == "wrong-namespace"
    assert "http://www.omg.org/bpmn20" in issue.message
    assert BPMN_NS in issue.message


def test_no_namespace_is_wrong_namespace():
    _, issue = _refused("<definitions/>")
    assert issue.code == "wrong-namespace"
    assert "no namespace" in issue.message


def test_wrong_root_element_in_bpmn_namespace():
    _, issue = _refused(f'<bpmn:process xmlns:bpmn="{BPMN_NS}" id="P"/>')
    assert issue.code == "wrong-namespace"
    assert "'process'" in issue.message


def test_processing_instructions_are_removed():
    xml = valid_model().replace("<bpmn:process ", '<?evil run="me"?>\n<bpmn:process ', 1)
    root = parse_bpmn_xml(xml)
    assert not any(isinstance(node, etree._ProcessingInstruction) for node in root.iter())


def test_default_parser_is_not_changed():
    before = etree.get_default_parser()
    parse_bpmn_xml(valid_model())
    assert etree.get_default_parser() is before


def test_element_line():
    root = parse_bpmn_xml(valid_model())
    task = root.find(f".//{{{BPMN_NS}}}userTask")
    assert element_line(task) == task.sourceline > 1
    assert element_line(None) is None


def test_parser_refuses_entities_even_without_the_raw_text_check(monkeypatch):
    """Defence in depth: if the raw scan missed a declaration, lxml's docinfo catches it."""
    import re

    import bpmn.engine.xml as xml_module

    monkeypatch.setattr(xml_module, "_DECLARATION_RE", re.compile(rb"(?!)"))
    secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    xml = (
        '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D">&xxe;</bpmn:definitions>\n'
    )
    error, issue = _refused(xml.encode())
    assert issue.code == "doctype"
    if secret:
        assert secret not in _everything_said(error)
