// The /dashboard page's files, compiled into the binary at build time, so a running server needs
// neither npm nor any file on disk. The build (src/web/CMakeLists.txt) runs `npm ci` on
// web/dashboard/package-lock.json in the build tree and embed_assets.cmake writes their bytes
// into a generated .cc: the page (web/dashboard/index.html), our dashboard.js and dashboard.css,
// and uPlot's uPlot.iife.min.js and uPlot.min.css from node_modules.
//
// The page links each asset as "/dashboard/assets/<name>?v=<version>", with <version> the
// asset's content hash, so a server may tell a browser to keep an asset fetched under its
// current version for good (a new build links a new version).
//
// Ownership: static storage, nothing to free. Thread-safety: immutable, safe concurrently.
#ifndef HASIVU_WEB_DASHBOARD_ASSETS_H_
#define HASIVU_WEB_DASHBOARD_ASSETS_H_

#include <span>
#include <string_view>

namespace hasivu::web {

struct Asset {
  std::string_view name;          // "dashboard.js"; for the page, "index.html"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;          // the file's bytes (the page: with versioned asset links)
  std::string_view version;       // first 16 hex digits of the SHA-256 of `body`
  std::string_view etag;          // "\"" + version + "\"": a strong ETag of the identity body
};

// The HTML page served at GET /dashboard.
const Asset& DashboardPage();

// Every asset the page links (not the page itself), by name ascending.
std::span<const Asset> DashboardAssets();

// The asset called `name` (exact, case-sensitive), or nullptr when there is none.
const Asset* FindDashboardAsset(std::string_view name);

}  // namespace hasivu::web

#endif  // HASIVU_WEB_DASHBOARD_ASSETS_H_
