{#- Centre the map at the address fragment's "lat,lon" (web/map/place.py). -#}
{% macro script(this, kwargs) %}
(function (map, zoom) {
    var marker = null;
    function place() {
        var found = /^#(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$/.exec(location.hash);
        if (!found) { return; }
        var lat = parseFloat(found[1]), lon = parseFloat(found[2]);
        if (Math.abs(lat) > 90 || Math.abs(lon) > 180) { return; }
        // Leaflet takes [lat, lon]: the fragment is written in that order already.
        map.setView([lat, lon], zoom);
        if (marker) { marker.setLatLng([lat, lon]); }
        else {
            marker = L.circleMarker([lat, lon], {radius: 9, color: "#d81b60", weight: 3,
                                                 fill: false, interactive: false}).addTo(map);
        }
        map.getContainer().dataset.place = lat.toFixed(6) + "," + lon.toFixed(6);
    }
    place();
    window.addEventListener("hashchange", place);
})({{ this._parent.get_name() }}, {{ this.zoom|tojson }});
{% endmacro %}
