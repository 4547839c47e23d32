#!/usr/bin/env python3
"""Writes the Inputs and Outputs tables of every Terraform module's README
from its variables.tf and outputs.tf (terraform-docs style), between the
markers <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->.

    python3 .ci/tf-docs.py            # rewrite the tables
    python3 .ci/tf-docs.py --check    # fail if any table is out of date

Plain Python, no HCL library: types and defaults are shown as written in
the .tf file, which is what a reader of the table wants anyway.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def blocks(text, kind):
    """(name, {attribute: raw value}) for each top-level `kind "name" { ... }`."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(rf'^{kind} "([^"]+)" \{{\s*$', lines[i])
        if not match:
            i += 1
            continue
        name, attributes, i = match.group(1), {}, i + 1
        while i < len(lines) and lines[i] != "}":
            attribute = re.match(r"^  ([a-z_]+)\s*=\s*(.*)$", lines[i])
            if attribute:
                key, value = attribute.groups()
                depth = balance(value)
                while depth > 0:
                    i += 1
                    value += " " + lines[i].strip()
                    depth += balance(lines[i])
                attributes[key] = value
            i += 1
        yield name, attributes
        i += 1


def balance(text):
    """Opening minus closing brackets outside strings."""
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return sum(text.count(c) for c in "{[(") - sum(text.count(c) for c in "}])")


def unquote(value):
    value = value.strip()
    if value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"')
    return value


def cell(text):
    return re.sub(r"\s+", " ", text).replace("|", "\\|")


def code(text):
    return "`" + cell(text).replace("`", "'") + "`"


def split_args(text):
    """Top-level comma-separated arguments of a call's inside."""
    args, depth, current = [], 0, ""
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += char
    return args + [current.strip()] if current.strip() else args


def object_attributes(text, name):
    """(attribute, type, default or None, description) of variable `name`'s
    `type = object({...})`, one per attribute line, the description being the
    comment after it."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line == f'variable "{name}" {{'), None)
    if start is None or not lines[start + 2].strip().startswith("type = object({"):
        return []
    out, i = [], start + 3
    while not lines[i].strip().startswith("})"):
        match = re.match(r"^\s{4}([a-z_]+)\s*=\s*(.*)$", lines[i])
        i += 1
        if not match:
            continue
        attribute, rest = match.groups()
        value, _, comment = rest.partition(" # ")
        while balance(value) > 0:  # an attribute over several lines
            value += " " + lines[i].split(" # ")[0].strip()
            i += 1
        value = value.strip()
        default = None
        if value.startswith("optional("):
            inner = split_args(value[len("optional("):-1])
            value, default = inner[0], (inner[1] if len(inner) > 1 else "null")
        out.append((attribute, value, default, comment.strip()))
    return out


def tables(module):
    out = ["## Inputs", "", "| Name | Description | Type | Default | Required |",
           "|------|-------------|------|---------|:--------:|"]
    variables = (module / "variables.tf").read_text()
    objects = []
    for name, a in blocks(variables, "variable"):
        required = "default" not in a
        default = "n/a" if required else code(a["default"])
        flags = [word for word in ("sensitive", "ephemeral") if a.get(word) == "true"]
        description = unquote(a.get("description", ""))
        if flags:
            description += " (" + ", ".join(flags) + ")"
        attributes = object_attributes(variables, name)
        kind = "object (below)" if attributes else a.get("type", "any")
        out.append(f"| {name} | {cell(description)} | {code(kind)} | {default} | "
                   f"{'yes' if required else 'no'} |")
        if attributes:
            objects.append((name, attributes))
    for name, attributes in objects:
        out += ["", f"### `{name}`", "", "| Attribute | Type | Default | Description |",
                "|-----------|------|---------|-------------|"]
        for attribute, kind, default, description in attributes:
            shown = "required" if default is None else code(default)
            out.append(f"| {attribute} | {code(kind)} | {shown} | {cell(description)} |")
    out += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    outputs = module / "outputs.tf"
    if outputs.exists():
        for name, a in blocks(outputs.read_text(), "output"):
            out.append(f"| {name} | {cell(unquote(a.get('description', '')))} |")
    return "\n".join(out)


def main():
    check = "--check" in sys.argv[1:]
    modules = [ROOT / "terraform", ROOT / "terraform/local"]
    modules += sorted(p for p in (ROOT / "terraform/examples").iterdir() if p.is_dir())
    modules += sorted(p for p in (ROOT / "terraform/modules").iterdir() if p.is_dir())
    stale = []
    for module in modules:
        readme = module / "README.md"
        text = readme.read_text()
        if BEGIN not in text or END not in text:
            sys.exit(f"{readme.relative_to(ROOT)}: no {BEGIN} ... {END} markers")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = f"{head}{BEGIN}\n{tables(module)}\n{END}{tail}"
        if new != text:
            stale.append(str(readme.relative_to(ROOT)))
            if not check:
                readme.write_text(new)
    if check and stale:
        sys.exit("out of date (run python3 .ci/tf-docs.py): " + ", ".join(stale))
    print(("stale: " if stale and not check else "up to date: ") + ", ".join(stale or ["all"]))


if __name__ == "__main__":
    main()
