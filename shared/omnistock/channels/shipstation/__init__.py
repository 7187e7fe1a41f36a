"""ShipStation's Custom Store protocol: one URL that ShipStation pulls orders from
(``action=export``) and posts shipments to (``action=shipnotify``). Dates (``dates``), the
export document (``export_xml``), the ShipNotice body (``notice``) and credentials (``auth``)."""
