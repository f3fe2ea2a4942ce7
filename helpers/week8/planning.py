"""Week 8 days 4 and 5: the planners, which run the team: scan, estimate, notify.

`PlanningAgent` is a plan written in Python: scan the feeds, have the ensemble estimate each
deal, and notify the one furthest below its estimate when the saving is worth it.
`AutonomousPlanningAgent` leaves the plan to a frontier model with tools (day 4): it is given
the three tools' JSON schemas, and asks for them by name with arguments; the code here runs
each tool it asks for and sends the result back, until the model stops asking.
"""

from __future__ import annotations

import json

from helpers.language.frontier import FrontierAuthError, refusal
from helpers.week8.agent import Agent
from helpers.week8.deals import Deal, DealSelection, Opportunity
from helpers.week8.messaging import MessagingAgent
from helpers.week8.pricers import EnsembleAgent
from helpers.week8.scanner import ScannerAgent

DEAL_THRESHOLD = 50.0  # dollars below its estimate that make a deal worth a notification


class PlanningAgent(Agent):
    name = "Planning Agent"
    color = Agent.GREEN

    def __init__(
        self,
        scanner: ScannerAgent,
        ensemble: EnsembleAgent,
        messenger: MessagingAgent,
        threshold: float = DEAL_THRESHOLD,
    ):
        self.scanner, self.ensemble, self.messenger, self.threshold = scanner, ensemble, messenger, threshold
        self.considered: list[Opportunity] = []  # every deal the last run priced, best first

    def run(self, deal: Deal) -> Opportunity | None:
        """The deal with the ensemble's estimate; None when no agent could price it."""
        self.log("Planning Agent is pricing up a potential deal")
        estimate = self.ensemble.price(deal.product_description)
        if estimate is None:
            self.log("Planning Agent: no estimate for this deal, left out")
            return None
        discount = estimate - deal.price
        self.log(f"Planning Agent has processed a deal with discount ${discount:,.2f}")
        return Opportunity(deal=deal, estimate=estimate, discount=discount)

    def plan(self, memory: set[str] = frozenset()) -> Opportunity | None:
        """Scan, estimate each deal, and notify the best when its saving passes the threshold;
        returns that opportunity, or None. `memory`: the URLs of deals raised before."""
        self.log("Planning Agent is kicking off a run")
        self.considered = []
        selection = self.scanner.scan(memory=memory)
        if not selection or not selection.deals:
            self.log("Planning Agent found no deals to price this time")
            return None
        opportunities = [found for deal in selection.deals[:5] if (found := self.run(deal)) is not None]
        opportunities.sort(key=lambda found: found.discount, reverse=True)
        self.considered = opportunities
        if not opportunities:
            return None
        best = opportunities[0]
        self.log(f"Planning Agent has identified the best deal has discount ${best.discount:,.2f}")
        if best.discount <= self.threshold:
            self.log(f"Planning Agent: no deal is ${self.threshold:,.0f} or more below its estimate this time")
            return None
        self.messenger.alert(best)
        self.log("Planning Agent has completed a run")
        return best


class AutonomousPlanningAgent(Agent):
    name = "Autonomous Planning Agent"
    color = Agent.GREEN
    MAX_ROUNDS = 10  # replies with tool calls before the run is stopped: a model that never stops asking costs money

    scan_function = {
        "name": "scan_the_internet_for_bargains",
        "description": "Returns top bargains scraped from the internet along with the price each item is being offered "
        "for",
        "parameters": {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
    }
    estimate_function = {
        "name": "estimate_true_value",
        "description": "Given the description of an item, estimate how much it is actually worth",
        "parameters": {
            "type": "object",
            "properties": {
                "description": {"type": "string", "description": "The description of the item to be estimated"},
            },
            "required": ["description"],
            "additionalProperties": False,
        },
    }
    notify_function = {
        "name": "notify_user_of_deal",
        "description": "Send the user a push notification about the single most compelling deal; only call this one "
        "time",
        "parameters": {
            "type": "object",
            "properties": {
                "description": {
                    "type": "string",
                    "description": "The description of the item itself scraped from the internet",
                },
                "deal_price": {
                    "type": "number",
                    "description": "The price offered by this deal scraped from the internet",
                },
                "estimated_true_value": {
                    "type": "number",
                    "description": "The estimated actual value that this is worth",
                },
                "url": {"type": "string", "description": "The URL of this deal as scraped from the internet"},
            },
            "required": ["description", "deal_price", "estimated_true_value", "url"],
            "additionalProperties": False,
        },
    }

    system_message = (
        "You find great deals on bargain products using your tools, and notify the user of the best bargain."
    )
    user_message = (
        "First, use your tool to scan the internet for bargain deals. Then for each deal, use your tool to estimate "
        "its true value. Then pick the single most compelling deal where the price is much lower than the estimated "
        "true value, and use your tool to notify the user. Then just reply OK to indicate success."
    )

    def __init__(
        self,
        client,
        scanner: ScannerAgent,
        ensemble: EnsembleAgent,
        messenger: MessagingAgent,
        model: str = "gpt-4o-mini",
    ):
        self.client, self.scanner, self.ensemble, self.messenger, self.model = (
            client,
            scanner,
            ensemble,
            messenger,
            model,
        )
        self.memory: set[str] = set()
        self.opportunity: Opportunity | None = None
        self.selection: DealSelection | None = None
        self.considered: list[Opportunity] = []  # the scanned deals the model had estimated, best first

    def get_tools(self) -> list[dict]:
        return [{"type": "function", "function": f} for f in (self.scan_function, self.estimate_function,
                                                              self.notify_function)]  # fmt: skip

    # --- the tools: what runs when the model asks for one ---------------------------------

    def scan_the_internet_for_bargains(self) -> str:
        self.log("Autonomous Planning Agent is calling the scanner")
        self.selection = self.scanner.scan(memory=self.memory)
        return self.selection.model_dump_json() if self.selection and self.selection.deals else "No deals found"

    def estimate_true_value(self, description: str) -> str:
        self.log("Autonomous Planning Agent is estimating a value with the Ensemble Agent")
        estimate = self.ensemble.price(description)
        if estimate is None:
            return f"The true value of {description} could not be estimated"
        for deal in self.selection.deals if self.selection else []:
            if deal.product_description == description:
                self.considered.append(Opportunity(deal=deal, estimate=estimate, discount=estimate - deal.price))
                self.considered.sort(key=lambda found: found.discount, reverse=True)
        return f"The estimated true value of {description} is {estimate:.2f}"

    def notify_user_of_deal(self, description: str, deal_price: float, estimated_true_value: float, url: str) -> str:
        if self.opportunity:
            self.log("Autonomous Planning Agent is trying to notify the user a 2nd time; ignoring")
            return "A notification was sent already; only one is allowed"
        shown = {deal.url for deal in self.selection.deals} if self.selection else set()
        if url not in shown:
            self.log(
                f"Autonomous Planning Agent: the model asked to notify a deal the scan did not return ({url[:60]})"
            )
            return "That URL is not one of the deals scanned; notify one of those"
        self.log("Autonomous Planning Agent is notifying the user")
        self.messenger.notify(description, deal_price, estimated_true_value, url)
        deal = Deal(product_description=description, price=deal_price, url=url)
        self.opportunity = Opportunity(
            deal=deal, estimate=estimated_true_value, discount=estimated_true_value - deal_price
        )
        return "Notification sent ok"

    def handle_tool_call(self, message) -> list[dict]:
        """Run each tool the model asked for; a tool it made up, or arguments that do not fit,
        get an error the model can read (and a line in the log), not an exception."""
        mapping = {
            "scan_the_internet_for_bargains": self.scan_the_internet_for_bargains,
            "estimate_true_value": self.estimate_true_value,
            "notify_user_of_deal": self.notify_user_of_deal,
        }
        results = []
        for call in message.tool_calls:
            tool, name = mapping.get(call.function.name), call.function.name
            try:
                arguments = json.loads(call.function.arguments or "{}")
                if tool is None:
                    raise LookupError(f"there is no tool {name!r}; the tools are {', '.join(mapping)}")
                if not isinstance(arguments, dict):
                    raise TypeError("the arguments are not a JSON object")
                result = tool(**arguments)
            except (LookupError, TypeError, ValueError) as error:  # ValueError: bad JSON, a price that is no number
                self.log(f"Autonomous Planning Agent: a call to {name[:40]!r} failed: {error}")
                result = f"Error: {error}"
            results.append({"role": "tool", "content": result, "tool_call_id": call.id})
        return results

    def plan(self, memory: set[str] = frozenset()) -> Opportunity | None:
        """The model plans the run with its tools; returns the opportunity it notified, if any."""
        import openai

        self.log("Autonomous Planning Agent is kicking off a run")
        self.memory, self.opportunity, self.selection, self.considered = set(memory), None, None, []
        messages: list = [
            {"role": "system", "content": self.system_message},
            {"role": "user", "content": self.user_message},
        ]
        for _ in range(self.MAX_ROUNDS):
            problem = None
            try:
                response = self.client.chat.completions.create(
                    model=self.model, messages=messages, tools=self.get_tools()
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
                problem = refusal(error, str(self.client.base_url), self.model)
            except (openai.APIError, openai.APIConnectionError) as error:
                self.log(f"Autonomous Planning Agent: the call failed ({type(error).__name__}): the run ends here")
                return self.opportunity
            if problem:
                raise FrontierAuthError(problem)
            choice = response.choices[0]
            if choice.finish_reason != "tool_calls" or not choice.message.tool_calls:
                self.log(f"Autonomous Planning Agent completed with: {(choice.message.content or '')[:80]}")
                return self.opportunity
            messages.append(choice.message)
            messages.extend(self.handle_tool_call(choice.message))
        self.log(f"Autonomous Planning Agent: still asking for tools after {self.MAX_ROUNDS} replies: stopped")
        return self.opportunity
