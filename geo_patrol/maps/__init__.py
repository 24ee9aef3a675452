"""The supervisors' web map and the joint-meeting pack (Folium, served without any CDN)."""
