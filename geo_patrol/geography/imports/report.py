"""What an import did, for the command line and the API."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts of an import; `unchanged` rows were left exactly as they were."""

    kind: str
    file: str
    features: int = 0
    added: int = 0
    new_versions: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        versions = (
            f"{self.new_versions} new boundary versions, " if self.kind == "jurisdictions" else ""
        )
        text = (
            f"{self.kind} from {self.file}: {self.features} features; {self.added} added, "
            f"{versions}{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.repaired:
            text += f"; {len(self.repaired)} invalid geometries repaired (features {self.repaired})"
        return text
