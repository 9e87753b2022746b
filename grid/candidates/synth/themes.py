"""What generated programs are about and how they look: subject themes (categories, measures,
a time axis) and the style choices each library takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    group: str                                          # column naming the categories
    cats: tuple[str, ...]
    measures: tuple[tuple[str, float, float, str], ...]  # column, typical value, spread, axis label
    time: str                                           # column naming the time axis
    start: str
    freq: str                                           # pandas frequency alias


THEMES = (
    Theme("sales", "region", ("North", "South", "East", "West", "Central", "Online", "Export", "Retail"),
           (("revenue", 1200, 300, "Revenue (USD)"), ("units", 80, 20, "Units sold"),
            ("profit", 300, 80, "Profit (USD)"), ("orders", 45, 12, "Orders"), ("returns", 6, 2, "Returns"),
            ("discount", 12, 3, "Discount (%)")), "month", "2023-01-01", "MS"),
    Theme("weather", "city", ("Oslo", "Lima", "Cairo", "Perth", "Quebec", "Osaka", "Dakar", "Lyon"),
           (("temp_c", 15, 6, "Temperature (C)"), ("humidity", 60, 12, "Humidity (%)"),
            ("rain_mm", 40, 15, "Rainfall (mm)"), ("wind_kmh", 18, 6, "Wind (km/h)"),
            ("pressure", 1013, 8, "Pressure (hPa)"), ("sunshine_h", 6, 2, "Sunshine (h)")), "day", "2024-03-01", "D"),
    Theme("population", "country", ("Chile", "Kenya", "Norway", "Vietnam", "Peru", "Ghana", "Poland", "Nepal"),
           (("population", 45, 12, "Population (millions)"), ("births", 14, 3, "Births per 1000"),
            ("deaths", 8, 2, "Deaths per 1000"), ("urban_pct", 60, 12, "Urban share (%)"),
            ("median_age", 32, 7, "Median age"), ("gdp_pc", 18000, 5000, "GDP per capita")),
           "year", "1990-01-01", "YS"),
    Theme("web", "page", ("home", "pricing", "blog", "docs", "signup", "about", "careers", "support"),
           (("visits", 5000, 1200, "Visits"), ("signups", 120, 30, "Sign-ups"), ("bounce_rate", 45, 8, "Bounce rate (%)"),
            ("sessions", 3000, 700, "Sessions"), ("clicks", 900, 200, "Clicks"), ("load_ms", 850, 150, "Load time (ms)")),
           "week", "2024-01-07", "W"),
    Theme("finance", "ticker", ("ACME", "GLOBX", "INITECH", "UMBRA", "STARK", "WAYNE", "HOOLI", "VANDL"),
           (("price", 100, 15, "Price (USD)"), ("volume", 20000, 5000, "Volume"), ("volatility", 18, 5, "Volatility (%)"),
            ("spread_bp", 12, 4, "Spread (bp)"), ("dividend", 2.5, 0.8, "Dividend yield (%)"),
            ("pe_ratio", 22, 6, "P/E ratio")), "date", "2024-01-02", "B"),
    Theme("lab", "treatment", ("control", "placebo", "low_dose", "mid_dose", "high_dose", "combo", "vehicle", "sham"),
           (("response", 50, 10, "Response"), ("dose_mg", 20, 6, "Dose (mg)"), ("weight_g", 250, 30, "Weight (g)"),
            ("score", 70, 12, "Score"), ("latency_ms", 320, 60, "Latency (ms)"), ("accuracy", 0.8, 0.08, "Accuracy")),
           "time", "2024-05-01 09:00", "min"),
    Theme("sports", "team", ("Falcons", "Otters", "Comets", "Wolves", "Herons", "Lynx", "Pumas", "Rays"),
           (("points", 98, 12, "Points"), ("wins", 40, 9, "Wins"), ("assists", 24, 5, "Assists"),
            ("rebounds", 44, 6, "Rebounds"), ("goals", 2.1, 0.8, "Goals per game"), ("shots", 14, 4, "Shots")),
           "game_date", "2023-09-03", "W"),
    Theme("energy", "source", ("solar", "wind", "hydro", "gas", "nuclear", "coal", "biomass", "geothermal"),
           (("output_mw", 450, 120, "Output (MW)"), ("demand_mw", 900, 150, "Demand (MW)"),
            ("price_eur", 70, 18, "Price (EUR/MWh)"), ("emissions_t", 300, 90, "Emissions (t)"),
            ("capacity_pct", 55, 15, "Capacity factor (%)"), ("load_pct", 65, 12, "Load (%)")),
           "hour", "2024-06-01", "h"),
)

STYLES = ("ggplot", "seaborn-v0_8-whitegrid", "bmh", "fivethirtyeight", "seaborn-v0_8-darkgrid", "classic",
           "grayscale", "seaborn-v0_8-muted", "tableau-colorblind10", "Solarize_Light2", "seaborn-v0_8-paper",
           "seaborn-v0_8-pastel", "fast", "dark_background", "seaborn-v0_8-ticks")
# All but the first are CSS colours too, which plotly takes.
COLORS = ("tab:blue", "steelblue", "darkorange", "seagreen", "#4c72b0", "#dd8452", "crimson", "slateblue",
           "teal", "gray", "#2a9d8f", "indigo")
CMAPS = ("viridis", "magma", "plasma", "cividis", "coolwarm", "Blues", "YlGnBu", "RdYlBu_r", "inferno", "Greens")
PALETTES = ("deep", "muted", "pastel", "Set2", "colorblind", "husl", "viridis", "rocket", "mako", "tab10", "dark")
SCALES = ("Viridis", "Blues", "RdBu", "Plasma", "Cividis", "Teal", "YlOrRd", "Magma")
TEMPLATES = ("plotly_white", "simple_white", "ggplot2", "seaborn", "plotly_dark", "presentation", "plotly")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
