"""Server settings of the big mail providers, to fill the "add an address" form from the
address's domain.  Other domains get the usual guess (imap.<domain>, smtp.<domain>),
which the person checks with their provider."""

from appliance.store.other_address_form import PASSWORD, XOAUTH2, AccountForm
from appliance.store.errors import N_

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/consumers/oauth2/v2.0/token"

GMAIL = (dict(imap_host="imap.gmail.com", imap_port="993", imap_security="tls",
              smtp_host="smtp.gmail.com", smtp_port="465", smtp_security="tls", auth=PASSWORD,
              token_url=GOOGLE_TOKEN_URL),
         N_("Gmail asks for an app password: make one in your Google account, under "
            "Security, 2-Step Verification, App passwords."))
YAHOO = (dict(imap_host="imap.mail.yahoo.com", imap_port="993", imap_security="tls",
              smtp_host="smtp.mail.yahoo.com", smtp_port="465", smtp_security="tls", auth=PASSWORD),
         N_("Yahoo asks for an app password: make one in your Yahoo account's security settings."))
# Outlook.com stopped taking passwords from mail programs in 2024: OAuth2 only.
OUTLOOK = (dict(imap_host="outlook.office365.com", imap_port="993", imap_security="tls",
                smtp_host="smtp-mail.outlook.com", smtp_port="587", smtp_security="starttls",
                auth=XOAUTH2, token_url=MICROSOFT_TOKEN_URL),
           N_("Outlook.com and Hotmail no longer accept passwords here: use OAuth2, with the "
              "client id and refresh token of an app registered with Microsoft."))

PROVIDERS = {  # domain: (form fields, hint)
    **dict.fromkeys(("gmail.com", "googlemail.com"), GMAIL),
    **dict.fromkeys(("yahoo.com", "yahoo.fr", "ymail.com", "rocketmail.com"), YAHOO),
    **dict.fromkeys(("outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr", "live.com", "live.fr",
                     "msn.com"), OUTLOOK),
}


def _guess(domain):
    return (dict(imap_host=f"imap.{domain}", imap_port="993", imap_security="tls",
                 smtp_host=f"smtp.{domain}", smtp_port="587", smtp_security="starttls"),
            N_("These server names are a guess: check them with your mail provider."))


def preset(address, display_name=""):
    """(an AccountForm filled in for ``address``, a hint for the person, untranslated)."""
    domain = address.rsplit("@", 1)[-1].lower()
    fields, hint = PROVIDERS.get(domain) or _guess(domain)
    return AccountForm(address=address, display_name=display_name, username=address, **fields), hint
