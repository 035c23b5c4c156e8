from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who holds the token of the current request."""

    id: str
    name: str
    type: str

    @property
    def is_admin(self) -> bool:
        return self.type == "admin"
