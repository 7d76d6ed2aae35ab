"""How a box gets online: ModemManager over D-Bus, AT commands over a serial
port, or a link that is always there.  Imports no other package of the project."""
