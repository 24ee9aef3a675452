{#- The ruler control, a Folium element: its header macro goes into the page's head, its
    script macro into the map's script (`this` is the DistanceMeasure). -#}
{% macro header(this, kwargs) %}
<style>
.gp-measure a {font-size: 18px; line-height: 30px; text-align: center; text-decoration: none;}
.gp-measure a.gp-on {background: #fce4ec;}
.gp-measure-out {background: #fff; padding: 2px 6px; font-size: 13px; white-space: nowrap;}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map, words) {
    var Measure = L.Control.extend({
        options: {position: "topleft"},
        onAdd: function () {
            var box = L.DomUtil.create("div", "leaflet-bar gp-measure");
            var button = L.DomUtil.create("a", "", box);
            button.href = "#"; button.title = words.title; button.textContent = "📏";
            button.setAttribute("role", "button");
            var out = L.DomUtil.create("div", "gp-measure-out", box);
            out.style.display = "none";
            var points = [], line = null, measuring = false;
            function show() {
                var metres = 0;
                for (var i = 1; i < points.length; i++) {
                    metres += map.distance(points[i - 1], points[i]);
                }
                out.dataset.metres = metres.toFixed(1);
                out.textContent = metres < 1000 ? Math.round(metres) + " m"
                    : (metres / 1000).toFixed(2) + " km";
            }
            function add(event) {
                points.push(event.latlng);
                if (line) { line.setLatLngs(points); }
                else { line = L.polyline(points, {color: "#d81b60", weight: 3,
                                                  dashArray: "6 4"}).addTo(map); }
                show();
            }
            L.DomEvent.on(button, "click", function (event) {
                L.DomEvent.stop(event);
                measuring = !measuring;
                button.classList.toggle("gp-on", measuring);
                out.style.display = measuring ? "block" : "none";
                map.getContainer().style.cursor = measuring ? "crosshair" : "";
                if (measuring) {
                    points = []; out.textContent = words.start; map.on("click", add);
                } else {
                    map.off("click", add);
                    if (line) { map.removeLayer(line); line = null; }
                }
            });
            L.DomEvent.disableClickPropagation(box);
            return box;
        }
    });
    new Measure().addTo(map);
})({{ this._parent.get_name() }}, {{ this.words|tojson }});
{% endmacro %}
