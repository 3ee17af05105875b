#include "web/dashboard_assets.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>

namespace hasivu::web {
namespace {

bool IsHex16(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

// Lower-cased copy, for case-insensitive searches of HTML.
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

TEST(DashboardAssetsTest, ThePageAndTheFourAssetsAreEmbedded) {
  const Asset& page = DashboardPage();
  EXPECT_EQ(page.name, "index.html");
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(page.body.starts_with("<!doctype html>")) << page.body.substr(0, 40);

  ASSERT_EQ(DashboardAssets().size(), 4u);
  std::string_view previous;
  for (const Asset& asset : DashboardAssets()) {
    EXPECT_LT(previous, asset.name);  // ascending
    previous = asset.name;
    EXPECT_GT(asset.body.size(), 100u) << asset.name;
    EXPECT_TRUE(IsHex16(asset.version)) << asset.name << ": " << asset.version;
    EXPECT_EQ(asset.etag, "\"" + std::string(asset.version) + "\"") << asset.name;
    const std::string_view expected_type =
        asset.name.ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    EXPECT_EQ(asset.content_type, expected_type) << asset.name;
    EXPECT_EQ(FindDashboardAsset(asset.name), &asset);
  }
  // uPlot's browser build, from node_modules.
  const Asset* uplot = FindDashboardAsset("uPlot.iife.min.js");
  ASSERT_NE(uplot, nullptr);
  EXPECT_NE(uplot->body.find("uPlot"), std::string_view::npos);
  ASSERT_NE(FindDashboardAsset("uPlot.min.css"), nullptr);
  EXPECT_NE(FindDashboardAsset("uPlot.min.css")->body.find(".uplot"), std::string_view::npos);
}

TEST(DashboardAssetsTest, UnknownNamesAreNotFound) {
  EXPECT_EQ(FindDashboardAsset(""), nullptr);
  EXPECT_EQ(FindDashboardAsset("index.html"), nullptr);  // the page is served at /dashboard only
  EXPECT_EQ(FindDashboardAsset("DASHBOARD.JS"), nullptr);
  EXPECT_EQ(FindDashboardAsset("../dashboard.js"), nullptr);
  EXPECT_EQ(FindDashboardAsset("package.json"), nullptr);
}

TEST(DashboardAssetsTest, ThePageLinksEveryAssetUnderItsVersion) {
  const std::string_view page = DashboardPage().body;
  for (const Asset& asset : DashboardAssets()) {
    const std::string link = "\"/dashboard/assets/" + std::string(asset.name) +
                             "?v=" + std::string(asset.version) + "\"";
    EXPECT_NE(page.find(link), std::string_view::npos) << link;
  }
  // No unversioned link is left.
  EXPECT_EQ(page.find("/dashboard/assets/dashboard.js\""), std::string_view::npos);
}

// The page is served under "script-src 'self'; style-src 'self'" (no 'unsafe-inline'): an inline
// script, style element, style attribute or event-handler attribute would be blocked by the
// browser, so the page holds none.
TEST(DashboardAssetsTest, ThePageHoldsNoInlineScriptOrStyle) {
  const std::string page = Lower(DashboardPage().body);
  size_t at = 0;
  int scripts = 0;
  while ((at = page.find("<script", at)) != std::string::npos) {
    const size_t end = page.find('>', at);
    ASSERT_NE(end, std::string::npos);
    const std::string tag = page.substr(at, end - at);
    EXPECT_NE(tag.find(" src=\"/dashboard/assets/"), std::string::npos) << tag;
    EXPECT_EQ(page.compare(end + 1, 9, "</script>"), 0) << "script with inline code: " << tag;
    ++scripts;
    at = end;
  }
  EXPECT_EQ(scripts, 2);  // uPlot, then ours
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_EQ(page.find(" style="), std::string::npos);
  EXPECT_EQ(page.find("javascript:"), std::string::npos);
  for (std::string_view handler : {" onclick=", " onload=", " onsubmit=", " onerror="}) {
    EXPECT_EQ(page.find(handler), std::string::npos) << handler;
  }
}

}  // namespace
}  // namespace hasivu::web
