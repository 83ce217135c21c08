"""The layering of the modules, read from their source (imports inside functions included): the
stages (transforms/, schemas/) never import the wiring, scoring or commands of pipeline/, and no
module is part of an import loop (a loop is what forced imports inside functions: cli <-> evaluate
and extract <-> feeds did)."""

import ast

from support import ROOT

FOLDERS = ("pipeline", "transforms", "schemas")


def module_files() -> dict[str, object]:
    modules = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(("tollwatch", *(parts[:-1] if parts[-1] == "__init__" else parts)))
            modules[name] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """{module: the tollwatch modules it imports anywhere in its source}."""
    modules = module_files()
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tollwatch"):
                for alias in node.names:  # `from package import module` imports the module
                    member = f"{node.module}.{alias.name}"
                    imported.add(member if member in modules else node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("tollwatch")}
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def import_loops(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                loops.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return loops


def test_the_finder_sees_a_loop_and_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_loops(graph) == [{"a", "b", "c"}]
    # The loop cli <-> evaluate was made of imports inside functions: they count.
    assert "tollwatch.pipeline.evaluate" in import_graph()["tollwatch.pipeline.cli"]


def test_stages_do_not_import_pipeline_modules():
    graph = import_graph()
    upward = {(m, d) for m, deps in graph.items() if not m.startswith("tollwatch.pipeline")
              for d in deps if d.startswith("tollwatch.pipeline")}
    assert upward == set()


def test_no_module_is_in_an_import_loop():
    graph = import_graph()
    assert "tollwatch.transforms.inputs.feeds" in graph and "tollwatch.schemas.records" in graph
    assert import_loops(graph) == []
