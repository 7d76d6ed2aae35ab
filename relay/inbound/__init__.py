"""Mail coming in for boxes: SendGrid's webhook (sendgrid), the SMTP listener
(smtp), stored durably once per box and recipient (store), turned into what a
pouch carries (preparation), its senders' signatures checked (signature)."""
