"""Water quality at monitoring sections (交界断面水质): the GB 3838-2002 classes (standard),
sections snapped to rivers, readings imported from station exports, the rule that opens a
joint case when a border section worsens, and its upstream leads."""
