"""Week 8 day 3: the messaging agent tells you about a deal, by push notification (Pushover).

With PUSHOVER_USER and PUSHOVER_TOKEN set (environment, .env or Colab secrets) each alert is
posted to Pushover's API and arrives on your phone; without them it is a line in the agents'
log. A notification that fails (no network, a refused token) is a line in the log too: a
message that could not be sent never stops the hunt for deals. Neither key is ever shown.
"""

from __future__ import annotations

from helpers.plumbing.secrets import get_secret
from helpers.week8.agent import Agent
from helpers.week8.deals import Opportunity

PUSHOVER_URL = "https://api.pushover.net/1/messages.json"


class MessagingAgent(Agent):
    name = "Messaging Agent"
    color = Agent.WHITE

    def __init__(self, url: str = PUSHOVER_URL, timeout: float = 10.0):
        self.url, self.timeout = url, timeout
        self.user, self.token = get_secret("PUSHOVER_USER"), get_secret("PUSHOVER_TOKEN")
        how = "Pushover" if self.user and self.token else "the log (PUSHOVER_USER and PUSHOVER_TOKEN are not set)"
        self.log(f"Messaging Agent will notify by {how}")

    def push(self, text: str) -> bool:
        """Send `text`; True when it went (or was logged for want of Pushover keys)."""
        import httpx

        if not (self.user and self.token):
            self.log(f"Messaging Agent notification: {text}")
            return True
        self.log("Messaging Agent is sending a push notification")
        payload = {"user": self.user, "token": self.token, "message": text[:1024], "sound": "cashregister"}
        try:
            httpx.post(self.url, data=payload, timeout=self.timeout).raise_for_status()
        except httpx.HTTPStatusError as error:
            self.log(f"Messaging Agent: Pushover refused the notification (status {error.response.status_code})")
            return False
        except httpx.HTTPError as error:
            self.log(f"Messaging Agent: the notification could not be sent ({type(error).__name__})")
            return False
        self.log(f"Messaging Agent sent: {text}")
        return True

    def alert(self, opportunity: Opportunity) -> bool:
        """A notification about `opportunity`."""
        deal = opportunity.deal
        return self.notify(deal.product_description, deal.price, opportunity.estimate, deal.url)

    def notify(self, description: str, deal_price: float, estimated_true_value: float, url: str) -> bool:
        text = (
            f"Deal Alert! Price=${deal_price:,.2f}, Estimate=${estimated_true_value:,.2f}, "
            f"Discount=${estimated_true_value - deal_price:,.2f}: {description[:60]}... {url}"
        )
        return self.push(text)
