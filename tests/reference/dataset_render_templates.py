"""Reference renderings of chat templates, exactly as transformers' apply_chat_template renders them.

Usage:
  dataset_render_templates.py render CASES.json OUT.json
      CASES: [{"template": str, "variables": {...}}]; OUT: [{"ok": true, "text": str} | {"ok": false, "error": str}]
  dataset_render_templates.py gguf-template MODEL.gguf
      prints {"chat_template": ..., "bos_token": ..., "eos_token": ...} read from the GGUF metadata
"""
import json
import sys


def compile_template(source):
    # transformers' own environment: ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks),
    # loopcontrols, generation tag, tojson override, raise_exception, namespace, strftime_now.
    from transformers.utils.chat_template_utils import _compile_jinja_template

    return _compile_jinja_template(source)


def render(cases_path, out_path):
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    results = []
    for case in cases:
        try:
            text = compile_template(case["template"]).render(**case["variables"])
            results.append({"ok": True, "text": text})
        except Exception as error:  # noqa: BLE001 - every failure is a result to compare
            results.append({"ok": False, "error": str(error), "type": type(error).__name__})
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)


def gguf_template(path):
    import gguf

    reader = gguf.GGUFReader(path)

    def string_field(key):
        field = reader.fields.get(key)
        if field is None:
            return None
        return bytes(field.parts[field.data[0]]).decode("utf-8")

    def token(key):
        field = reader.fields.get(key)
        if field is None:
            return None
        index = int(field.parts[field.data[0]][0])
        tokens = reader.fields["tokenizer.ggml.tokens"]
        return bytes(tokens.parts[tokens.data[index]]).decode("utf-8")

    print(json.dumps({"chat_template": string_field("tokenizer.chat_template"),
                      "bos_token": token("tokenizer.ggml.bos_token_id"),
                      "eos_token": token("tokenizer.ggml.eos_token_id")}, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "render":
        render(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "gguf-template":
        gguf_template(sys.argv[2])
    else:
        sys.exit("unknown mode " + sys.argv[1])
