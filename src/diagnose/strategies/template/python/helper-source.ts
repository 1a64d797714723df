/**
 * The Python side of the templates: the stdlib `ast` in a python3 helper process, parsing only. One process
 * per heal, fed sources over stdin as JSON lines; it answers each with the syntax tree, every node carrying
 * exact UTF-16 offsets (`s`, `e`) into the source as JavaScript indexes it. It never compiles or runs what
 * it parses, and runs isolated (`-I -S`: no PYTHON* variables, no site, no current directory on sys.path).
 */

export const HELPER_SOURCE = String.raw`
import ast
import json
import re
import sys

NEWLINE = re.compile(r"\r\n|\r|\n")


class Offsets:
    """(line, UTF-8 column) as ast reports them -> UTF-16 offsets into the source, as JavaScript indexes it."""

    def __init__(self, source):
        self.lines = []
        start = 0
        u16 = 0
        for m in NEWLINE.finditer(source):
            text = source[start:m.start()]
            self.lines.append((u16, text))
            u16 += _u16len(source[start:m.end()])
            start = m.end()
        self.lines.append((u16, source[start:]))

    def at(self, line, col):
        if line < 1 or line > len(self.lines):
            return None
        base, text = self.lines[line - 1]
        if text.isascii():
            return base + col
        prefix = text.encode("utf-8", "surrogatepass")[:col].decode("utf-8", "surrogatepass")
        return base + _u16len(prefix)


def _u16len(s):
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def convert(node, offsets):
    if isinstance(node, ast.AST):
        out = {"_t": type(node).__name__}
        if getattr(node, "lineno", None) is not None and getattr(node, "end_lineno", None) is not None:
            out["s"] = offsets.at(node.lineno, node.col_offset)
            out["e"] = offsets.at(node.end_lineno, node.end_col_offset)
        for name, value in ast.iter_fields(node):
            out[name] = convert(value, offsets)
        if isinstance(node, ast.Constant):
            out["vt"] = type(node.value).__name__
        return out
    if isinstance(node, list):
        return [convert(v, offsets) for v in node]
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, int):
        return node if abs(node) < 2**53 else str(node)
    if isinstance(node, float):
        return node if node == node and node not in (float("inf"), float("-inf")) else repr(node)
    return repr(node)


def handle(req):
    source = req.get("source")
    if not isinstance(source, str):
        return {"ok": False, "error": "no source"}
    kwargs = {}
    fv = req.get("featureVersion")
    if isinstance(fv, list) and len(fv) == 2:
        kwargs["feature_version"] = (int(fv[0]), int(fv[1]))
    try:
        tree = ast.parse(source, filename="<source>", **kwargs)
    except SyntaxError as err:
        return {"ok": False, "error": "SyntaxError: %s (line %s)" % (err.msg, err.lineno)}
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        return {"ok": False, "error": "%s: %s" % (type(err).__name__, err)}
    if req.get("checkOnly"):
        return {"ok": True}
    try:
        return {"ok": True, "tree": convert(tree, Offsets(source))}
    except RecursionError:
        return {"ok": False, "error": "RecursionError: the syntax tree is too deep"}


def main():
    sys.setrecursionlimit(20000)
    version = list(sys.version_info[:2])
    for raw in sys.stdin:
        try:
            req = json.loads(raw)
            rid = req.get("id")
        except ValueError:
            req, rid = None, None
        out = handle(req) if isinstance(req, dict) else {"ok": False, "error": "bad request"}
        out["id"] = rid
        out["python"] = version
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        sys.stdout.flush()


main()
`;
