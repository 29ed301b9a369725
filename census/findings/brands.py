"""Brands whose names are worth protecting, with the registrable domains and GitHub organisations
that prove a server is really theirs (curated; used by the impersonation rule in ``tier.py``).

Chosen for precision: companies that publish or host MCP servers or whose APIs MCP servers
commonly wrap with credentials (payments, e-mail, developer tools).  Brand words that are
ordinary English (square, box, monday, resend, neon, teams) are left out: a server called
"box" or "resend-mcp" claims nothing.  Platform suffixes where anyone can host (workers.dev,
amazonaws.com, vercel.app, netlify.app, supabase.co, myshopify.com) are deliberately *not*
brand domains: hosting there proves nothing about the brand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["BRANDS", "Brand"]


@dataclass(frozen=True, slots=True)
class Brand:
    """``aliases``: token sequences naming the brand (lower-case); ``domains``: registrable
    domains it controls; ``github_orgs``: GitHub accounts it controls (lower-case)."""

    name: str
    aliases: tuple[tuple[str, ...], ...]
    domains: frozenset[str]
    github_orgs: frozenset[str]


def _b(name: str, aliases: str, domains: str, orgs: str) -> Brand:
    return Brand(
        name,
        tuple(tuple(a.split()) for a in aliases.split(",")),
        frozenset(domains.split()),
        frozenset(orgs.split()),
    )


BRANDS: Final[tuple[Brand, ...]] = (
    _b("Airtable", "airtable", "airtable.com", "airtable"),
    _b("Anthropic", "anthropic,claude", "anthropic.com claude.ai claude.com", "anthropics"),
    _b("Asana", "asana", "asana.com", "asana"),
    _b(
        "Atlassian",
        "atlassian,jira,confluence,bitbucket,trello",
        "atlassian.com atlassian.net bitbucket.org trello.com",
        "atlassian atlassian-labs",
    ),
    _b("AWS", "aws,amazon web services", "amazon.com aws.dev", "aws awslabs aws-samples"),
    _b("Binance", "binance", "binance.com", "binance"),
    _b("Brevo", "brevo,sendinblue", "brevo.com sendinblue.com", "getbrevo"),
    _b("Canva", "canva", "canva.com", "canva"),
    _b("ClickUp", "clickup", "clickup.com", "clickup"),
    _b("Cloudflare", "cloudflare", "cloudflare.com", "cloudflare"),
    _b("Coinbase", "coinbase", "coinbase.com", "coinbase"),
    _b("Databricks", "databricks", "databricks.com", "databricks databrickslabs"),
    _b("Datadog", "datadog", "datadoghq.com datadoghq.eu", "datadog"),
    _b("DigitalOcean", "digitalocean,digital ocean", "digitalocean.com", "digitalocean"),
    _b("Docker", "docker", "docker.com docker.io", "docker"),
    _b("Dropbox", "dropbox", "dropbox.com", "dropbox"),
    _b("Elastic", "elasticsearch", "elastic.co", "elastic"),
    _b("Figma", "figma", "figma.com", "figma"),
    _b("GitHub", "github", "github.com githubcopilot.com", "github"),
    _b("GitLab", "gitlab", "gitlab.com", "gitlab-org gitlabhq"),
    _b(
        "Google",
        "google,gmail,google drive,google calendar,gemini",
        "google.com googleapis.com gmail.com",
        "google googleapis google-gemini googlecloudplatform googleworkspace",
    ),
    _b("Grafana", "grafana", "grafana.com grafana.net", "grafana"),
    _b("Heroku", "heroku", "heroku.com", "heroku"),
    _b("HubSpot", "hubspot", "hubspot.com", "hubspot"),
    _b("Hugging Face", "huggingface,hugging face", "huggingface.co hf.co", "huggingface"),
    _b("Intercom", "intercom", "intercom.com intercom.io", "intercom"),
    _b("Linear", "linear", "linear.app", "linear"),
    _b("Mailchimp", "mailchimp", "mailchimp.com", "mailchimp"),
    _b("Mailgun", "mailgun", "mailgun.com", "mailgun"),
    _b(
        "Microsoft",
        "microsoft,azure,outlook,onedrive,sharepoint",
        "microsoft.com azure.com office.com live.com microsoftonline.com",
        "microsoft azure microsoftdocs",
    ),
    _b("Miro", "miro", "miro.com", "miroapp"),
    _b("MongoDB", "mongodb", "mongodb.com", "mongodb mongodb-js"),
    _b("Notion", "notion", "notion.so notion.com", "makenotion"),
    _b("OpenAI", "openai,chatgpt", "openai.com chatgpt.com", "openai"),
    _b("PagerDuty", "pagerduty", "pagerduty.com", "pagerduty"),
    _b("PayPal", "paypal", "paypal.com", "paypal"),
    _b("Plaid", "plaid", "plaid.com", "plaid"),
    _b("Postman", "postman", "postman.com getpostman.com", "postmanlabs"),
    _b("Postmark", "postmark", "postmarkapp.com", "activecampaign wildbit"),
    _b("Salesforce", "salesforce", "salesforce.com force.com", "salesforce forcedotcom"),
    _b("SendGrid", "sendgrid", "sendgrid.com", "sendgrid twilio"),
    _b("Sentry", "sentry", "sentry.io sentry.dev", "getsentry"),
    _b("Shopify", "shopify", "shopify.com shopify.dev", "shopify"),
    _b("Slack", "slack", "slack.com", "slackapi"),
    _b("Snowflake", "snowflake", "snowflake.com", "snowflake-labs snowflakedb"),
    _b("Stripe", "stripe", "stripe.com", "stripe"),
    _b("Supabase", "supabase", "supabase.com", "supabase supabase-community"),
    _b("Todoist", "todoist", "todoist.com todoist.net", "doist"),
    _b("Twilio", "twilio", "twilio.com", "twilio twilio-labs"),
    _b("Vercel", "vercel", "vercel.com", "vercel"),
    _b("Webflow", "webflow", "webflow.com", "webflow"),
    _b("Wix", "wix", "wix.com", "wix"),
    _b("Zapier", "zapier", "zapier.com", "zapier"),
    _b("Zendesk", "zendesk", "zendesk.com", "zendesk"),
    _b("Zoom", "zoom", "zoom.us zoom.com", "zoom"),
)
