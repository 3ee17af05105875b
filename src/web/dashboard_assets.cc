#include "web/dashboard_assets.h"

namespace hasivu::web {

const Asset* FindDashboardAsset(std::string_view name) {
  // Five assets: a linear scan is as fast as any index.
  for (const Asset& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

}  // namespace hasivu::web
