import ast
import inspect
from types import ModuleType


def top_level_imports(module: ModuleType) -> set[str]:
    """The top-level packages `module` imports, read from its source."""
    tree = ast.parse(inspect.getsource(module))
    return {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
