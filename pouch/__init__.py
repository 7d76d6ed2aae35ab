"""The pouch: the batch format that crosses the modem, MIME <-> record
conversion, and the blob stores. Shared by the box and the relay; imports no
other package of the project."""
