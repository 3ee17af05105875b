// The fixed vocabulary of the demo data set: the dish catalogue, people's names, schools and their
// cities, class sections and payment methods. Draws index into these arrays, so changing an entry
// or its position changes the data set of a seed.
#ifndef HASIVU_SEED_CATALOG_H_
#define HASIVU_SEED_CATALOG_H_

#include <cstdint>
#include <iterator>

namespace hasivu::seed {

struct CatalogItem {
  const char* name;
  const char* category;
  int64_t price_paise;
  int calories;
  const char* allergens;  // JSON array
};

// 40 dishes; "demo" uses the first 25.
inline constexpr CatalogItem kCatalog[] = {
    {"Masala Dosa", "BREAKFAST", 4500, 320, "[]"},
    {"Idli Sambar", "BREAKFAST", 3500, 250, "[]"},
    {"Poha", "BREAKFAST", 3000, 270, "[\"peanuts\"]"},
    {"Upma", "BREAKFAST", 3000, 260, "[\"gluten\"]"},
    {"Aloo Paratha", "BREAKFAST", 4000, 380, "[\"gluten\",\"dairy\"]"},
    {"Veg Pulao", "LUNCH", 6000, 450, "[]"},
    {"Dal Rice", "LUNCH", 5500, 480, "[]"},
    {"Rajma Chawal", "LUNCH", 6500, 520, "[]"},
    {"Chole Bhature", "LUNCH", 7000, 610, "[\"gluten\"]"},
    {"Paneer Butter Masala with Roti", "LUNCH", 8500, 560, "[\"dairy\",\"gluten\"]"},
    {"Vegetable Biryani", "LUNCH", 8000, 540, "[]"},
    {"Curd Rice", "LUNCH", 5000, 400, "[\"dairy\"]"},
    {"Sambar Rice", "LUNCH", 5000, 430, "[]"},
    {"Lemon Rice", "LUNCH", 4500, 390, "[\"peanuts\"]"},
    {"Mini Meals Thali", "LUNCH", 9500, 650, "[\"dairy\",\"gluten\"]"},
    {"Veg Sandwich", "SNACK", 3500, 280, "[\"gluten\",\"dairy\"]"},
    {"Samosa", "SNACK", 2000, 260, "[\"gluten\"]"},
    {"Fruit Bowl", "SNACK", 4000, 150, "[]"},
    {"Sprouts Chaat", "SNACK", 3000, 180, "[]"},
    {"Vada Pav", "SNACK", 2500, 290, "[\"gluten\"]"},
    {"Masala Chaas", "BEVERAGE", 2000, 90, "[\"dairy\"]"},
    {"Mango Lassi", "BEVERAGE", 3500, 210, "[\"dairy\"]"},
    {"Fresh Lime Water", "BEVERAGE", 1500, 60, "[]"},
    {"Gulab Jamun", "DESSERT", 2500, 300, "[\"dairy\",\"gluten\"]"},
    {"Rice Kheer", "DESSERT", 3000, 280, "[\"dairy\",\"nuts\"]"},
    {"Pongal", "BREAKFAST", 3500, 310, "[\"dairy\"]"},
    {"Medu Vada", "BREAKFAST", 3000, 290, "[]"},
    {"Uttapam", "BREAKFAST", 4000, 330, "[]"},
    {"Veg Fried Rice", "LUNCH", 7000, 500, "[\"soy\"]"},
    {"Bisi Bele Bath", "LUNCH", 6000, 470, "[\"dairy\"]"},
    {"Kadhi Chawal", "LUNCH", 5500, 450, "[\"dairy\"]"},
    {"Palak Paneer with Rice", "LUNCH", 8500, 530, "[\"dairy\"]"},
    {"Egg Curry with Rice", "LUNCH", 8000, 560, "[\"egg\"]"},
    {"Dhokla", "SNACK", 3000, 200, "[]"},
    {"Corn Chaat", "SNACK", 3000, 170, "[\"dairy\"]"},
    {"Banana Chips", "SNACK", 2000, 250, "[]"},
    {"Badam Milk", "BEVERAGE", 3500, 220, "[\"dairy\",\"nuts\"]"},
    {"Tender Coconut Water", "BEVERAGE", 3000, 60, "[]"},
    {"Carrot Halwa", "DESSERT", 3500, 320, "[\"dairy\",\"nuts\"]"},
    {"Fruit Custard", "DESSERT", 3000, 240, "[\"dairy\"]"},
};
static_assert(std::size(kCatalog) == 40);

inline constexpr const char* kFirstNames[] = {
    "Aarav",   "Vivaan",  "Aditya", "Vihaan", "Arjun",  "Sai",    "Reyansh", "Ayaan",
    "Krishna", "Ishaan",  "Ananya", "Diya",   "Aadhya", "Saanvi", "Myra",    "Pari",
    "Anika",   "Kavya",   "Riya",   "Meera",  "Rohan",  "Kabir",  "Dev",     "Neha",
    "Priya",   "Lakshmi", "Ravi",   "Suresh", "Deepa",  "Farhan", "Zoya",    "Tanvi",
};
inline constexpr const char* kLastNames[] = {
    "Sharma", "Verma", "Iyer",   "Reddy", "Nair",  "Gupta",    "Patel",  "Rao",
    "Khan",   "Singh", "Menon",  "Joshi", "Das",   "Kulkarni", "Bhat",   "Hegde",
    "Pillai", "Mehta", "Shetty", "Gowda", "Kumar", "Banerjee", "Mishra", "Naidu",
};
inline constexpr const char* kSchoolNames[] = {
    "Sunrise Public School",  "Green Valley Academy",     "Little Flower School",
    "National Model School",  "Lotus International",      "St. Mary's Convent",
    "Vidya Niketan",          "Kendriya Vidyalaya No. 2", "Blue Bells School",
    "Delhi Public School",    "Sri Chaitanya School",     "Presidency School",
    "Bharatiya Vidya Bhavan", "Oakridge School",          "Silver Oaks School",
    "Gurukul Academy",        "Army Public School",       "Holy Cross School",
    "Amrita Vidyalayam",      "New Horizon School",
};
inline constexpr const char* kCities[] = {"Bengaluru", "Mysuru", "Chennai", "Hyderabad", "Pune"};
// The state of each city, by index.
inline constexpr const char* kStates[] = {"Karnataka", "Karnataka", "Tamil Nadu", "Telangana",
                                          "Maharashtra"};
inline constexpr const char* kSections[] = {"A", "B", "C", "D"};
// Payment methods of the simulated gateway, drawn uniformly (UPI twice as often).
inline constexpr const char* kMethods[] = {"upi", "upi", "card", "netbanking", "wallet"};

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_CATALOG_H_
