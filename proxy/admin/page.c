/* proxy/admin/page.c — the stats page at / on the admin listener
 * (admin_http.h): one self-contained HTML document (no external script,
 * style, font or image), the /status document built in so the tables are
 * there on first paint, then refreshed from /status every 2 s. Narrow
 * screens (phones) get each table row as a card. */
#include <string.h>

#include "core/err.h"
#include "proxy/admin/admin_http.h"

static const char head[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>h2bridge</title>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}\n"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}\n"
    "#meta{color:#555;margin-bottom:8px}\n"
    "table{border-collapse:collapse;width:100%;background:#fff}\n"
    "th,td{border:1px solid #ddd;padding:4px 6px;text-align:right;white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "th{background:#eee}\n"
    ".up,.listening{color:#0a6b0a;font-weight:600}.failing,.down,.draining{color:#b00;font-weight:600}\n"
    ".err{color:#b00}\n"
    "@media (max-width:640px){table,thead,tbody,tr,td{display:block}thead{display:none}\n"
    " tr{margin:0 0 10px;border:1px solid #ddd;background:#fff}\n"
    " td{border:0;border-bottom:1px solid #eee;text-align:right}\n"
    " td:before{content:attr(data-k);float:left;font-weight:600;color:#555}\n"
    " td:first-child{text-align:right}}\n"
    "</style></head><body>\n"
    "<h1>h2bridge</h1><div id=\"meta\"></div>\n"
    "<h2>Listeners</h2><table id=\"listeners\"></table>\n"
    "<h2>Upstreams and servers</h2><table id=\"servers\"></table>\n"
    "<p id=\"err\" class=\"err\"></p>\n"
    "<script id=\"data\" type=\"application/json\">";

static const char tail[] =
    "</script>\n"
    "<script>\n"
    "'use strict';\n"
    "function el(t,a,x){var e=document.createElement(t);for(var k in a)e.setAttribute(k,a[k]);\n"
    " if(x!==undefined)e.textContent=String(x);return e}\n"
    "function table(id,cols,rows){var t=document.getElementById(id);t.textContent='';\n"
    " var h=el('thead'),r=el('tr');cols.forEach(function(c){r.appendChild(el('th',{},c[0]))});\n"
    " h.appendChild(r);t.appendChild(h);var b=el('tbody');\n"
    " rows.forEach(function(row){var tr=el('tr',row.attrs||{});cols.forEach(function(c,i){\n"
    "  var v=row.cells[i],td=el('td',{'data-k':c[0]},v);if(c[1])td.className=String(v);\n"
    "  tr.appendChild(td)});b.appendChild(tr)});t.appendChild(b)}\n"
    "function bs(m){return m['2xx']+' / '+m['3xx']+' / '+m['4xx']+' / '+m['5xx']}\n"
    "function show(s){\n"
    " document.getElementById('meta').textContent='version '+s.version+' \\u00b7 up '+\n"
    "  Math.floor(s.uptime_seconds)+' s \\u00b7 generation '+s.generation+' \\u00b7 '+\n"
    "  s.workers+' workers'+(s.workers_stalled?' ('+s.workers_stalled+' stalled)':'')+\n"
    "  ' \\u00b7 '+(s.ready?'ready':'not ready')+' \\u00b7 reloads '+s.reloads.ok+' ok, '+\n"
    "  s.reloads.failed+' failed';\n"
    " table('listeners',[['listener'],['state',1],['tls'],['protocols'],['open'],\n"
    "  ['connections'],['active'],['requests'],['2xx / 3xx / 4xx / 5xx'],['TLS failures']],\n"
    "  s.listeners.map(function(l){return {attrs:{'data-listener':l.name},cells:[l.name,\n"
    "   l.state,l.tls?'yes':'no',l.protocols.join(' '),l.connections_open,l.connections_total,\n"
    "   l.requests_active,l.requests_total,bs(l.requests_by_status),l.tls_handshake_failures]}}));\n"
    " var rows=[];s.upstreams.forEach(function(u){u.servers.forEach(function(v){\n"
    "  rows.push({attrs:{'data-upstream':u.name,'data-server':v.server},cells:[u.name+' \\u2192 '+\n"
    "   v.server,v.state,v.connections_open,v.connections_idle,v.queue_length,v.requests_total,\n"
    "   bs(v.requests_by_status),v.errors_total,v.timeouts_total,v.retries_total,\n"
    "   v.connect_failures_total]})})});\n"
    " table('servers',[['upstream \\u2192 server'],['state',1],['open'],['idle'],['queued'],\n"
    "  ['requests'],['2xx / 3xx / 4xx / 5xx'],['errors'],['timeouts'],['retries'],\n"
    "  ['connect failures']],rows);\n"
    " document.body.setAttribute('data-generation',s.generation)}\n"
    "show(JSON.parse(document.getElementById('data').textContent));\n"
    "var refreshes=0;\n"
    "setInterval(function(){fetch('/status',{cache:'no-store'}).then(function(r){\n"
    " if(!r.ok)throw new Error('HTTP '+r.status);return r.json()}).then(function(s){\n"
    " document.getElementById('err').textContent='';show(s);\n"
    " document.body.setAttribute('data-refreshes',++refreshes)}).catch(function(e){\n"
    " document.getElementById('err').textContent='refresh failed: '+e.message})},2000);\n"
    "</script></body></html>\n";

int px_admin_page(struct hb_buf *out, const char *json, size_t len)
{
    /* json escapes '<' (status.c), so it cannot close the script early. */
    if (hb_buf_append(out, head, sizeof head - 1) != 0 || hb_buf_append(out, json, len) != 0 ||
        hb_buf_append(out, tail, sizeof tail - 1) != 0)
        return HB_ENOMEM;
    return 0;
}
