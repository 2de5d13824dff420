"""Check recorded traffic against GitHub's published descriptions (tests/fixtures/github).

- REST: rest-openapi-subset.json (OpenAPI 3.0). A request must match a path template and a
  method the spec lists, use only query parameters the operation declares, and send a body
  that validates against the operation's request schema (so its required fields are there).
  A response must validate against the schema of its status.
- GraphQL: graphql-schema-subset.graphql. Every field a query selects, and every argument it
  passes, must exist on the type the schema says it is selected from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

FIXTURES = Path(__file__).parents[1] / "fixtures" / "github"


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect -> JSON Schema 2020-12: only `nullable` differs in what we use."""
    if isinstance(node, list):
        return [to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable" and not k.startswith("x-")}
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]


class RestSpec:
    def __init__(self, path: Path = FIXTURES / "rest-openapi-subset.json") -> None:
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        self.components = to_json_schema(self.doc["components"])
        self.operations: list[tuple[re.Pattern[str], Operation]] = []
        for template, item in self.doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$")
            for method, spec in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.operations.append((pattern, Operation(method.upper(), template, spec)))

    def operation(self, method: str, path: str) -> Operation | None:
        for pattern, op in self.operations:
            if op.method == method and pattern.match(path):
                return op
        return None

    def _parameter(self, param: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in param:
            return self.doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        return param

    def _errors(self, schema: Any, instance: Any) -> list[str]:
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": self.components, **to_json_schema(schema)}
        validator = jsonschema.Draft202012Validator(root)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in validator.iter_errors(instance)]

    def check_request(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> list[str]:
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: no such operation in the spec"]
        problems = []
        declared = {self._parameter(p)["name"] for p in op.spec.get("parameters", []) if self._parameter(p)["in"] == "query"}
        for name in query:
            if name not in declared:
                problems.append(f"{method} {op.template}: query parameter {name!r} not declared ({sorted(declared)})")
        request_body = op.spec.get("requestBody")
        if request_body:
            schema = request_body["content"]["application/json"]["schema"]
            if body is None and request_body.get("required"):
                problems.append(f"{method} {op.template}: a body is required")
            elif body is not None:
                problems += [f"{method} {op.template} body: {e}" for e in self._errors(schema, body)]
        elif body is not None:
            problems.append(f"{method} {op.template}: sent a body the operation does not take")
        return problems

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: no such operation in the spec"]
        response = op.spec["responses"].get(str(status))
        if response is None:
            return [f"{method} {op.template}: status {status} is not documented ({sorted(op.spec['responses'])})"]
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content", {}).get("application/json")
        if content is None:
            return []
        return [f"{method} {op.template} -> {status}: {e}" for e in self._errors(content["schema"], body)]


# -- GraphQL --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GqlField:
    type: str  # named type, wrappers ([ ] !) removed
    args: dict[str, str]


class GraphqlSchema:
    def __init__(self, path: Path = FIXTURES / "graphql-schema-subset.graphql") -> None:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'"""[\s\S]*?"""', "", text)
        text = re.sub(r'"[^"\n]*"', "", text)
        text = re.sub(r"#.*", "", text)
        text = re.sub(r"=\s*\{[^}]*\}", "", text)  # default values: orderBy: X = {field: ..., direction: ...}
        self.types: dict[str, dict[str, GqlField]] = {}
        self.enums: dict[str, set[str]] = {}
        for kind, name, body in re.findall(r"\b(type|interface|input|enum)\s+(\w+)[^{]*\{([^}]*)\}", text):
            if kind == "enum":
                self.enums[name] = set(body.split())
                continue
            fields: dict[str, GqlField] = {}
            for fname, args, ftype in re.findall(r"(\w+)\s*(\([^)]*\))?\s*:\s*([\[\]\w!]+)", body):
                arg_types = dict(re.findall(r"(\w+)\s*:\s*([\[\]\w!]+)", args or ""))
                fields[fname] = GqlField(re.sub(r"[\[\]!]", "", ftype), {k: re.sub(r"[\[\]!]", "", v) for k, v in arg_types.items()})
            self.types[name] = fields

    def check(self, query: str) -> list[str]:
        """Problems with `query` (a single operation, no fragments: what outage-bot sends)."""
        match = re.search(r"\b(query|mutation)\b[^{]*", query)
        if not match:
            return ["not an operation"]
        root = "Query" if match.group(1) == "query" else "Mutation"
        tokens = re.findall(r"\.\.\.|[{}():,]|\$?\w+!?|\S", query[match.end() :])
        problems: list[str] = []
        self._selection(tokens, 0, root, problems)
        return problems

    def _selection(self, tokens: list[str], i: int, type_name: str, problems: list[str]) -> int:
        assert tokens[i] == "{", tokens[i]
        i += 1
        fields = self.types.get(type_name)
        if fields is None:
            problems.append(f"unknown type {type_name}")
            fields = {}
        while tokens[i] != "}":
            name = tokens[i]
            i += 1
            field = fields.get(name)
            if field is None:
                problems.append(f"{type_name}.{name}: no such field")
            if tokens[i] == "(":
                i = self._arguments(tokens, i, type_name, name, field, problems)
            if tokens[i] == "{":
                i = self._selection(tokens, i, field.type if field else "?", problems)
        return i + 1

    def _arguments(self, tokens: list[str], i: int, type_name: str, name: str, field: GqlField | None, problems: list[str]) -> int:
        depth = 0
        expect_name = True
        while True:
            token = tokens[i]
            if token in "({":
                depth += 1
                expect_name = True
            elif token in ")}":
                depth -= 1
                if depth == 0:
                    return i + 1
            elif token == ":":
                expect_name = False
            elif token == ",":
                expect_name = True
            elif expect_name and depth == 1 and field is not None:
                if token not in field.args:
                    problems.append(f"{type_name}.{name}({token}:): no such argument")
                arg_type = field.args.get(token, "")
                if arg_type in self.enums and tokens[i + 2] not in self.enums[arg_type] and not tokens[i + 2].startswith("$"):
                    problems.append(f"{type_name}.{name}({token}: {tokens[i + 2]}): not a {arg_type}")
                expect_name = False
            elif expect_name and depth == 2 and field is not None:
                # fields of an input object literal: pinIssue(input: {issueId: $id})
                input_type = next(iter(field.args.values()), "")
                if token not in self.types.get(input_type, {}):
                    problems.append(f"{input_type}.{token}: no such input field")
                expect_name = False
            i += 1

    @cached_property
    def type_names(self) -> set[str]:
        return set(self.types) | set(self.enums)
