/* reportatlas map behaviour: data layers, popups, legend, search, GCJ-02 switch.
 * Written for reportatlas.  Every text that comes from a report or a layer is put into
 * the page with textContent, never as HTML. */
(function () {
  'use strict';
  var RA = window.ReportAtlas = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // Leaflet's layer control writes layer names as HTML: give it escaped text
  function esc(text) {
    var d = document.createElement('div');
    d.textContent = String(text);
    return d.innerHTML;
  }

  function row(table, cells, head) {
    var tr = el('tr');
    cells.forEach(function (c) { tr.appendChild(el(head ? 'th' : 'td', null, c)); });
    table.appendChild(tr);
  }

  function describe(p, data) {
    var bits = [];
    if (p.k) { bits.push(data.labels.kinds[p.k] || p.k); }
    if (p.p) { bits.push('定位: ' + (data.labels.precision[p.p] || p.p)); }
    if (p.sd) { bits.push(p.sd); }
    return bits.join(' · ');
  }

  function popupContent(p, layerInfo, data) {
    var box = el('div', 'ra-popup');
    box.appendChild(el('div', 'ra-popup-title', p.n || '(无名称)'));
    var sub = describe(p, data);
    if (sub) { box.appendChild(el('div', 'ra-popup-sub', sub)); }
    if (p.a) {
      var note = '位置为近似' + (p.u ? '（约 ' + Math.round(p.u) + ' 米范围）' : '');
      box.appendChild(el('div', 'ra-popup-approx', note));
    }
    if (p.m && p.m.length) {
      box.appendChild(el('div', 'ra-popup-h', '指标'));
      var t = el('table', 'ra-metrics');
      row(t, ['指标', '数值', '说明', '来源'], true);
      p.m.forEach(function (m) { row(t, [m[0], m[1], m[2] || '', m[3] || '']); });
      box.appendChild(t);
    }
    if (p.props && p.props.length) {
      var pt = el('table', 'ra-metrics');
      p.props.forEach(function (kv) { row(pt, [kv[0], kv[1]]); });
      box.appendChild(pt);
    }
    if (p.s && p.s.length) {
      box.appendChild(el('div', 'ra-popup-h', '报告原文'));
      var ul = el('ul', 'ra-sentences');
      p.s.forEach(function (ix) {
        var s = [data.dict.reports[ix[0]], data.dict.sd[ix[1]], data.dict.txt[ix[2]]];
        var li = el('li');
        li.appendChild(el('span', 'ra-src', s[0] + (s[1] ? ' · ' + s[1] : '')));
        li.appendChild(el('span', 'ra-quote', s[2]));
        ul.appendChild(li);
      });
      box.appendChild(ul);
      if (p.more) { box.appendChild(el('div', 'ra-popup-sub', '另有 ' + p.more + ' 处提及')); }
    }
    var foot = [layerInfo.title];
    if (p.src) { foot.push('来源: ' + p.src); }
    if (p.c !== undefined && p.c !== null) { foot.push('可信度 ' + p.c); }
    box.appendChild(el('div', 'ra-popup-foot', foot.join(' · ')));
    return box;
  }

  function styleFor(info, p, data) {
    var color = data.colors[p.k] || info.color || '#555';
    var approx = !!p.a;
    if (info.type === 'areas') {
      var admin = p.k === 'district' || p.k === 'subdistrict';
      return {color: p.k === 'district' ? '#333' : color, weight: p.k === 'district' ? 3 : 2,
              dashArray: approx ? '6 4' : null, fillColor: color,
              fillOpacity: admin ? 0.03 : 0.15, className: 'ra-feature ra-' + info.key};
    }
    if (info.type === 'roads') {
      return {color: color, weight: 5, opacity: 0.85, dashArray: approx ? '8 6' : null,
              className: 'ra-feature ra-' + info.key};
    }
    return {color: approx ? color : '#222', weight: approx ? 1.5 : 1, fillColor: color,
            fillOpacity: approx ? 0.12 : 0.9, dashArray: approx ? '4 4' : null,
            radius: 6, className: 'ra-feature ra-' + info.key};
  }

  function depth(type) {
    return {LineString: 0, MultiLineString: 1, Polygon: 1, MultiPolygon: 2}[type];
  }

  function toFeature(item, dict) {
    var g = item[0], q = item[1], p = item[2];
    return {type: 'Feature', geometry: Array.isArray(g) ? {type: 'Point', coordinates: g} : g,
            properties: p, gcj: Array.isArray(g) ? [g[0] + q[0] * 1e-6, g[1] + q[1] * 1e-6] : q};
  }

  RA.init = function (map, control, gaode, data) {
    if (typeof data === 'string') {  // the id of a <script type="application/json"> element
      data = JSON.parse(document.getElementById(data).textContent);
    }
    var state = {layers: [], index: [], gcj: false, choro: []};
    RA.state = state;
    map.getContainer().classList.add('ra-map');
    map.createPane('ra-choropleth').style.zIndex = 350;
    map.createPane('ra-approx').style.zIndex = 440;
    map.createPane('ra-points').style.zIndex = 450;

    if (data.attribution) { map.attributionControl.addAttribution(data.attribution); }
    // frame the map before any layer is added: markercluster's chunked loading must not
    // race a zoom change
    if (data.bounds) { map.fitBounds(data.bounds, {animate: false}); }
    // compact lookups → names
    data.layers.forEach(function (info) {
      info.items.forEach(function (it) {
        var p = it[2];
        if (p.k !== undefined) { p.k = data.dict.kinds[p.k]; }
        if (p.p !== undefined) { p.p = data.dict.precision[p.p]; }
        if (p.sd !== undefined) { p.sd = data.dict.sd[p.sd]; }
        if (p.src !== undefined) { p.src = data.dict.src[p.src]; }
      });
    });
    var none = L.layerGroup();
    control.addBaseLayer(none, esc(data.labels.none));

    function openPopup(layer, info, latlng) {
      var at = layer.getLatLng ? layer.getLatLng() : latlng || layer.getBounds().getCenter();
      L.popup({maxWidth: 380}).setLatLng(at)
        .setContent(popupContent(layer.feature.properties, info, data)).openOn(map);
    }

    // markercluster checks every layer added while the group is off the map against all
    // the others (quadratic: minutes for 100k points), so points are added once it is on
    function fillCluster(entry) {
      var group = entry.group;
      if (map.hasLayer(group)) {
        group.clearLayers();
        group.addLayers(entry.sub);
        return;
      }
      group.clearLayers();  // positions may have changed while it was hidden
      if (entry.waiting) { return; }
      entry.waiting = true;
      group.once('add', function () { entry.waiting = false; group.addLayers(entry.sub); });
    }

    function pointLayer(info, item, styles) {
      var g = item[0], p = item[2];
      var key = (p.k || '') + '|' + (p.a ? 1 : 0);
      var st = styles[key];
      if (!st) {
        st = styles[key] = styleFor(info, p, data);
        st.pane = info.pane || 'overlayPane';
      }
      var ll = L.latLng(g[1], g[0]);
      var layer;
      if (p.a && p.u) {
        layer = L.circle(ll, L.extend({}, st, {radius: p.u, pane: 'ra-approx'}));
      } else {
        layer = L.circleMarker(ll, st);
      }
      layer.feature = {type: 'Feature', properties: p,
                       gcj: [g[0] + item[1][0] * 1e-6, g[1] + item[1][1] * 1e-6]};
      return layer;
    }

    function makeLayer(info) {
      var sub = [];
      var gj;
      var points = info.items.length && info.items.every(function (it) { return Array.isArray(it[0]); });
      if (points) {  // plain vector markers: much faster than L.geoJSON for 100k sites
        var styles = {};
        sub = info.items.map(function (it) { return pointLayer(info, it, styles); });
        gj = L.featureGroup(info.cluster ? [] : sub);
      } else {
        gj = L.geoJSON(null, {
          pane: info.pane || 'overlayPane',
          style: function (f) { return styleFor(info, f.properties, data); },
          pointToLayer: function (f, latlng) { return pointLayer(info, [f.geometry.coordinates, [0, 0], f.properties], {}); },
          onEachFeature: function (f, layer) { sub.push(layer); }
        });
        gj.addData({type: 'FeatureCollection', features: info.items.map(toFeature)});
      }
      sub.forEach(function (layer) {
        layer._raWgs = layer.getLatLng ? layer.getLatLng() : layer.getLatLngs();
        var n = layer.feature.properties.n;
        if (n) { state.index.push({name: n, layer: layer, info: info}); }
      });
      var group = gj;
      if (info.cluster) {
        group = L.markerClusterGroup({maxClusterRadius: 40, disableClusteringAtZoom: 16,
                                      chunkedLoading: true, showCoverageOnHover: false});
      }
      // one listener per layer, not a tooltip and a popup per feature (100k sites stay fast)
      group.on('click', function (e) {
        var layer = e.propagatedFrom || e.layer;
        if (layer && layer.feature) { openPopup(layer, info, e.latlng); }
      });
      group.on('mouseover', function (e) {
        var layer = e.propagatedFrom || e.layer;
        if (!layer || !layer.feature || layer.getTooltip()) { return; }
        var name = layer.feature.properties.n || '(无名称)';
        layer.bindTooltip(function () { return el('span', 'ra-tip', name); },
                          {sticky: info.type !== 'sites'});
        layer.openTooltip(e.latlng);
      });
      var entry = {info: info, group: group, sub: sub, cluster: !!info.cluster};
      state.layers.push(entry);
      control.addOverlay(group, esc(info.title));
      if (entry.cluster) { fillCluster(entry); }
      if (info.show) { group.addTo(map); }
      return entry;
    }

    var areaItems = (data.layers.filter(function (l) { return l.type === 'areas'; })[0] || {items: []}).items;
    data.choropleths.forEach(function (ch) {
      var info = {key: ch.key, title: ch.title, type: 'choropleth', pane: 'ra-choropleth', show: ch.show};
      var fc = {type: 'FeatureCollection', features: ch.features.map(function (c) {
        var item = areaItems[c.ref];
        return {type: 'Feature', geometry: item[0], gcj: item[1],
                properties: {n: c.n, cls: c.cls, label: c.label}};
      })};
      var gj = L.geoJSON(fc, {
        pane: 'ra-choropleth',
        style: function (f) {
          var i = f.properties.cls;
          return {color: '#666', weight: 1, fillOpacity: 0.65, className: 'ra-choro',
                  fillColor: i === null || i === undefined ? ch.nodata : ch.colors[i]};
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () {
            return el('span', 'ra-tip', f.properties.n + '：' + f.properties.label);
          }, {sticky: true});
          layer._raWgs = layer.getLatLngs();
        }
      });
      var entry = {info: info, group: gj, sub: gj.getLayers(), choro: ch};
      state.layers.push(entry);
      state.choro.push(entry);
      control.addOverlay(gj, esc(ch.title));
      if (ch.show) { gj.addTo(map); }
    });
    data.layers.forEach(makeLayer);

    // ---- legend
    var legend = L.control({position: 'bottomright'});
    legend.onAdd = function () {
      var div = el('div', 'ra-legend ra-box');
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      legend._div = div;
      return div;
    };
    legend.addTo(map);
    function drawLegend() {
      var div = legend._div;
      div.textContent = '';
      state.choro.forEach(function (entry) {
        if (!map.hasLayer(entry.group)) { return; }
        var ch = entry.choro;
        div.appendChild(el('div', 'ra-legend-h', ch.title));
        ch.classes.forEach(function (c, i) {
          var r = el('div', 'ra-legend-row');
          var sw = el('span', 'ra-swatch');
          sw.style.background = ch.colors[i];
          r.appendChild(sw);
          r.appendChild(el('span', null, c));
          div.appendChild(r);
        });
        var nd = el('div', 'ra-legend-row');
        var s2 = el('span', 'ra-swatch');
        s2.style.background = ch.nodata;
        nd.appendChild(s2);
        nd.appendChild(el('span', null, '无数据'));
        div.appendChild(nd);
      });
      div.appendChild(el('div', 'ra-legend-h', '类型'));
      data.legend.kinds.forEach(function (k) {
        var r = el('div', 'ra-legend-row');
        var sw = el('span', 'ra-dot');
        sw.style.background = k[1];
        r.appendChild(sw);
        r.appendChild(el('span', null, k[0]));
        div.appendChild(r);
      });
      div.appendChild(el('div', 'ra-legend-h', '定位精度'));
      [['ra-line', data.labels.exactish], ['ra-line ra-dashed', data.labels.approx],
       ['ra-dot ra-uncertain', data.labels.uncertain]].forEach(function (x) {
        var r = el('div', 'ra-legend-row');
        r.appendChild(el('span', x[0]));
        r.appendChild(el('span', null, x[1]));
        div.appendChild(r);
      });
    }
    drawLegend();
    map.on('overlayadd overlayremove', drawLegend);

    // ---- search by name
    var search = L.control({position: 'topleft'});
    search.onAdd = function () {
      var div = el('div', 'ra-search ra-box');
      var input = el('input', 'ra-search-input');
      input.type = 'search';
      input.placeholder = data.labels.search;
      input.setAttribute('aria-label', data.labels.search);
      var list = el('ul', 'ra-search-results');
      div.appendChild(input);
      div.appendChild(list);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      function update() {
        var q = input.value.trim().toLowerCase();
        list.textContent = '';
        if (!q) { return; }
        var hits = state.index.filter(function (x) { return x.name.toLowerCase().indexOf(q) >= 0; });
        hits.sort(function (a, b) {
          return (a.name.toLowerCase().indexOf(q) - b.name.toLowerCase().indexOf(q)) ||
                 (a.name.length - b.name.length);
        });
        if (!hits.length) { list.appendChild(el('li', 'ra-search-none', '未找到')); }
        hits.slice(0, 15).forEach(function (hit) {
          var li = el('li', 'ra-search-hit');
          li.appendChild(el('span', 'ra-search-name', hit.name));
          li.appendChild(el('span', 'ra-search-layer', hit.info.title));
          li.addEventListener('click', function (e) {
            L.DomEvent.stopPropagation(e);  // the map would take it as a click that closes popups
            RA.show(hit);
            list.textContent = '';
          });
          list.appendChild(li);
        });
      }
      input.addEventListener('input', update);
      input.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' && list.firstChild && list.firstChild.click) { list.firstChild.click(); }
      });
      return div;
    };
    search.addTo(map);

    RA.show = function (hit) {
      var entry = state.layers.filter(function (e) { return e.info === hit.info; })[0];
      if (entry && !map.hasLayer(entry.group)) { entry.group.addTo(map); }
      var layer = hit.layer;
      if (layer.getBounds) {
        map.fitBounds(layer.getBounds(), {maxZoom: 16, animate: false});
      } else {
        // at zoom 16 clustering is off (disableClusteringAtZoom), so the point is drawn
        map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16), {animate: false});
      }
      // a popup of the map, not of the marker: re-clustering after the move would close it
      openPopup(layer, hit.info);
    };

    // ---- links to the other maps
    if (data.links && data.links.length) {
      var nav = L.control({position: 'topright'});
      nav.onAdd = function () {
        var div = el('div', 'ra-nav ra-box');
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        div.appendChild(el('div', 'ra-legend-h', data.title));
        var details = el('details');
        details.appendChild(el('summary', null, data.labels.maps + ' (' + (data.links.length - 1) + ')'));
        div.appendChild(details);
        var ul = el('ul', 'ra-nav-list');
        data.links.forEach(function (lk) {
          var li = el('li');
          var a = el('a', lk[2] ? 'ra-current' : null, lk[0]);
          a.setAttribute('href', lk[1]);
          li.appendChild(a);
          ul.appendChild(li);
        });
        details.appendChild(ul);
        return div;
      };
      nav.addTo(map);
    }

    // ---- Gaode tiles are drawn in GCJ-02: move our geometry with them
    function setDatum(gcj) {
      if (gcj === state.gcj) { return; }
      state.gcj = gcj;
      state.layers.forEach(function (entry) {
        if (entry.cluster && map.hasLayer(entry.group)) { entry.group.clearLayers(); }
        entry.sub.forEach(function (layer) {
          var f = layer.feature;
          if (!f || !f.gcj) { return; }
          if (layer.setLatLng && layer.getLatLng) {
            layer.setLatLng(gcj ? L.latLng(f.gcj[1], f.gcj[0]) : layer._raWgs);
          } else {
            layer.setLatLngs(gcj ? L.GeoJSON.coordsToLatLngs(f.gcj, depth(f.geometry.type))
                                 : layer._raWgs);
          }
        });
        if (entry.cluster) { fillCluster(entry); }
      });
    }
    RA.setDatum = setDatum;
    map.on('baselayerchange', function (e) { setDatum(e.layer === gaode); });
    if (map.hasLayer(gaode)) { setDatum(true); }
  };
})();
