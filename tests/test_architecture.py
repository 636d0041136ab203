"""ARCHITECTURE.md against the source: its import graph, its layers, no cycle, no private import."""

from . import _import_graph as graph


def test_the_drawn_import_graph_is_the_real_one():
    text = (graph.ROOT / "ARCHITECTURE.md").read_text()
    assert graph.block() in text, "run: python tests/_import_graph.py --write"


def test_every_module_has_a_layer_and_imports_none_above_it():
    unplaced = [name for name in graph.graph() if graph.layer(name) is None]
    assert unplaced == [], "add them to LAYERS in tests/_import_graph.py and ARCHITECTURE.md"
    assert graph.upward_imports(graph.graph()) == []


def test_the_applications_of_fitting_stand_side_by_side():
    """Gridded signals, shapes and meta-learning each build on the core, never on another."""
    assert graph.sideways_imports(graph.graph()) == []


def test_no_import_cycle_at_any_granularity():
    assert graph.cycles(graph.graph(every_module=True)) == []


def test_no_module_imports_another_modules_private_name():
    assert graph.private_imports() == []


def test_the_checks_can_fail():
    """A cycle and an upward import are found when they are there."""
    assert graph.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert graph.upward_imports({"gridded": {"restorator.model"}}) == [
        "gridded -> restorator.model"
    ]
    assert graph.sideways_imports({"shapes": {"meta", "loop"}}) == ["shapes -> meta"]
