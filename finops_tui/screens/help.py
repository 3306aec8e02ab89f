"""The help screen shown on `?`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# finops-tui

finops-tui runs the rituals of a FinOps operating model: the weekly **tag sweep**, **anomaly triage**,
the **commitment review**, the **monthly cost review** and the **quarterly maturity review**.

| key | what it does |
|---|---|
| `?` | the keys of this screen and of the focused widget |
| `ctrl+p` | the command palette: every ritual and command |
| `q` | quit |
| `escape` | back |

Spend means **EffectiveCost** (amortised) everywhere; BilledCost appears only to reconcile with the invoice.
Dates are ISO `YYYY-MM-DD` in UTC.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        from exports import markdown as md
        from finops_tui.app import all_bindings

        ids = md.table(["binding id", "keys", "what it does"],
                       [[md.cell(b.id), md.cell(b.key), md.cell(b.description)] for b in all_bindings()])
        with VerticalScroll(id="help"):
            yield Markdown(HELP + "\n## Keys by binding id\n\nRebind any of them in `finops-tui.toml`: "
                           "`[keys]` then `binding-id = \"keys\"`.\n\n" + ids)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
