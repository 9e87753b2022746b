"""The fault vocabulary: the kinds of mistake planted in plotting programs, and the wrong names
and keyword typos they are made of.

The candidate generator writes faulty programs with these and repair plants them into working
ones, so a kind means the same in a candidate row's `fault` and in a repair variant's. Every wrong
name is missing from the pinned libraries, and every name it stands for is there
(tests/test_faults.py checks each table against the installed matplotlib, seaborn, plotly and pandas).
"""

from __future__ import annotations

FAULT_KINDS = ("wrong_column", "wrong_kwarg", "bad_api", "missing_import", "shape_mismatch", "mixed_libraries",
               "wrong_dtype", "undefined_name")
# What the generator writes: a program is built whole, so no variable is left unbound by a slip.
SYNTH_KINDS = tuple(kind for kind in FAULT_KINDS if kind != "undefined_name")

# ----------------------------------------------------------------------------- generator: a call written wrong
# The realistic wrong names for each call a generator template makes, by library.
_SYNTH_MATPLOTLIB = {
    "plot": ("lineplot", "line"), "bar": ("barplot", "bars"), "barh": ("hbar", "barhplot"),
    "scatter": ("scatterplot", "scater"), "hist": ("histogram", "histplot"), "boxplot": ("box_plot",),
    "violinplot": ("violin_plot",), "imshow": ("heatmap", "imshowplot"), "pie": ("piechart", "pie_chart"),
    "fill_between": ("fillbetween", "area"), "stackplot": ("stacked_area", "stackedplot"),
    "step": ("stepplot", "steps"), "errorbar": ("error_bar", "errorbars"), "contourf": ("contourfill", "filled_contour"),
    "hexbin": ("hex_bin", "hexplot"), "hist2d": ("histogram2d", "hist_2d"), "plot_surface": ("surface", "surface_plot"),
    "plot_wireframe": ("wireframe", "plotwireframe"), "pcolormesh": ("pcolor_mesh", "colormesh"),
}
_SYNTH_SEABORN = {
    "lineplot": ("tsplot", "line_plot"), "barplot": ("bar_plot", "barchart"), "scatterplot": ("scatter", "scatter_plot"),
    "histplot": ("hist", "histogram"), "boxplot": ("box_plot", "box"), "violinplot": ("violin", "violin_plot"),
    "heatmap": ("heat_map", "heatmapplot"), "kdeplot": ("kde", "densityplot"), "pointplot": ("point_plot",),
    "catplot": ("factorplot",), "relplot": ("rel_plot",), "displot": ("dist_plot",), "ecdfplot": ("ecdf",),
    "regplot": ("regressionplot",), "stripplot": ("strip_plot",),
}
_SYNTH_EXPRESS = {
    "line": ("line_chart", "lineplot"), "bar": ("bar_chart", "barplot"), "scatter": ("scatterplot", "scater"),
    "histogram": ("hist", "histplot"), "box": ("boxplot", "box_plot"), "violin": ("violinplot", "violin_plot"),
    "imshow": ("heatmap", "imshow_plot"), "pie": ("pie_chart", "piechart"), "area": ("area_chart", "stackplot"),
    "density_heatmap": ("density_heat_map", "heatmap_density"), "density_contour": ("contour", "densitycontour"),
    "scatter_3d": ("scatter3d", "scatter_3D"),
}
_SYNTH_GO = {
    "Scatter": ("Scater", "ScatterPlot"), "Bar": ("BarChart", "Bars"), "Histogram": ("Hist", "HistogramChart"),
    "Box": ("BoxPlot", "Boxplot"), "Violin": ("ViolinPlot",), "Heatmap": ("HeatMap",), "Pie": ("PieChart",),
    "Contour": ("ContourPlot",), "Surface": ("SurfacePlot", "Surf"), "Histogram2dContour": ("Histogram2DContour",),
}
_SYNTH_PANDAS = {
    "line": ("lines",), "bar": ("bars", "barchart"), "barh": ("hbar",), "scatter": ("scater", "scatterplot"),
    "hist": ("histogram",), "box": ("boxplot",), "area": ("stacked_area", "areas"), "pie": ("piechart",),
    "hexbin": ("hex",),
}
SYNTH_WRONG_NAMES = {"matplotlib": _SYNTH_MATPLOTLIB, "seaborn": _SYNTH_SEABORN, "plotly.express": _SYNTH_EXPRESS,
                     "plotly.graph_objects": _SYNTH_GO, "pandas": _SYNTH_PANDAS}
# Misspelled keywords with a value, added to a call of each sort (`mpl` drawing, `text`, `px`, `go` trace, `layout`).
SYNTH_KWARG_TYPOS = {
    "mpl": ("linewidht=2", "colour='tab:red'", "alpah=0.6", "lable='data'", "edgecolour='black'", "markersise=5",
            "linestlye='--'"),
    "text": ("fontsise=12", "colour='gray'", "fontweigth='bold'"),
    "px": ("colour='region'", "titel='Overview'", "widht=800", "hieght=500", "opacitiy=0.8"),
    "go": ("colour='red'", "opacitiy=0.8", "linewidth=2", "marker_colour='red'", "titel='trace'"),
    "layout": ("titel='Overview'", "widht=800", "hieght=500", "xaxis_titel='x'", "showlegends=False", "fontsize=12"),
}

# ----------------------------------------------------------------------------- repair: a working call made wrong
# Misspelled, invented or outdated names people call instead of the real ones, by what the call is made on.
_PYPLOT = {
    "plot": ("lineplot", "line"), "scatter": ("scatterplot", "scatter_plot"), "bar": ("barplot", "bar_chart"),
    "barh": ("hbar", "horizontal_bar"), "hist": ("histogram", "histplot"), "pie": ("pie_chart", "piechart"),
    "boxplot": ("box_plot", "boxchart"), "violinplot": ("violin", "violin_plot"), "imshow": ("heatmap", "show_image"),
    "fill_between": ("fillbetween", "fill_area"), "stackplot": ("stacked_area", "stack_plot"),
    "errorbar": ("error_bar", "errorbars"), "title": ("set_title", "plot_title"), "xlabel": ("set_xlabel", "x_label"),
    "ylabel": ("set_ylabel", "y_label"), "xlim": ("set_xlim", "x_lim"), "ylim": ("set_ylim", "y_lim"),
    "xticks": ("set_xticks", "x_ticks"), "yticks": ("set_yticks", "y_ticks"), "legend": ("add_legend", "show_legend"),
    "tight_layout": ("tightlayout", "layout_tight"), "savefig": ("save_fig", "save"), "show": ("display", "render"),
    "colorbar": ("color_bar", "colourbar"), "suptitle": ("super_title", "sup_title"),
    "grid": ("show_grid", "gridlines"),
    "figure": ("new_figure", "create_figure"), "subplots": ("subplot_grid", "make_subplots"),
    "text": ("add_text", "put_text"),
}
_AXES = {
    "set_title": ("title", "setTitle", "title_set"), "set_xlabel": ("xlabel", "set_x_label"),
    "set_ylabel": ("ylabel", "set_y_label"), "set_xlim": ("xlim", "set_x_lim"), "set_ylim": ("ylim", "set_y_lim"),
    "set_xticks": ("xticks", "set_x_ticks"), "set_yticks": ("yticks", "set_y_ticks"),
    "set_xticklabels": ("xticklabels", "set_xtick_labels"), "set_yticklabels": ("yticklabels", "set_ytick_labels"),
    "legend": ("add_legend", "show_legend"), "plot": ("lineplot", "line"), "scatter": ("scatterplot", "scatter_plot"),
    "bar": ("barplot", "bar_chart"), "barh": ("hbar", "horizontal_bar"), "hist": ("histogram", "histplot"),
    "pie": ("piechart", "pie_chart"), "imshow": ("heatmap", "show_image"), "grid": ("set_grid", "show_grid"),
    "fill_between": ("fillbetween", "fill_area"), "errorbar": ("error_bar", "errorbars"),
    "boxplot": ("box_plot", "boxchart"), "violinplot": ("violin_plot", "violinchart"), "text": ("add_text", "put_text"),
    "axhline": ("hline", "add_hline"), "axvline": ("vline", "add_vline"),
    "set_facecolor": ("set_axis_bgcolor", "set_background"), "tick_params": ("ticks_params", "set_tick_params"),
}
_FIGURE = {
    "suptitle": ("set_suptitle", "super_title"), "savefig": ("save_fig", "save"),
    "colorbar": ("color_bar", "add_colorbar"), "tight_layout": ("tightlayout", "layout_tight"),
    "add_subplot": ("add_subplots", "subplot"), "subplots_adjust": ("adjust_subplots", "subplot_adjust"),
    "set_size_inches": ("set_size", "set_figsize"), "legend": ("add_legend", "show_legend"),
}
_SEABORN = {
    "barplot": ("barchart", "bar_plot"), "lineplot": ("line_plot", "tsplot"),
    "scatterplot": ("scatter_plot", "scatter"),
    "histplot": ("hist_plot", "histogram"), "boxplot": ("box_plot", "box"), "violinplot": ("violin_plot", "violin"),
    "heatmap": ("heat_map", "heatmapplot"), "kdeplot": ("kde_plot", "densityplot"),
    "countplot": ("count_plot", "countchart"), "pointplot": ("point_plot", "pointchart"),
    "catplot": ("factorplot", "cat_plot"), "relplot": ("rel_plot", "relationalplot"),
    "displot": ("dist_plot", "distributionplot"), "ecdfplot": ("ecdf_plot", "ecdf"),
    "regplot": ("regression_plot", "reg_plot"), "lmplot": ("lm_plot", "linearplot"),
    "stripplot": ("strip_plot", "stripchart"), "swarmplot": ("swarm_plot", "swarmchart"),
    "pairplot": ("pair_plot", "scatter_matrix"), "jointplot": ("joint_plot", "jointchart"),
    "set_theme": ("theme", "set_themes"), "set_style": ("style", "set_styles"),
    "despine": ("remove_spines", "despines"), "color_palette": ("colour_palette", "palette_colors"),
    "set_palette": ("palette", "set_colors"),
}
_EXPRESS = {
    "line": ("line_chart", "lineplot"), "bar": ("bars", "bar_chart"), "scatter": ("scatter_plot", "scatterplot"),
    "histogram": ("hist", "histplot"), "box": ("boxplot", "box_plot"), "violin": ("violinplot", "violin_plot"),
    "pie": ("pie_chart", "piechart"), "area": ("area_chart", "stackplot"), "imshow": ("heatmap", "show_image"),
    "density_heatmap": ("heatmap_density", "density_heat_map"), "density_contour": ("contour", "density_contours"),
    "scatter_3d": ("scatter3d", "scatter_3D"), "sunburst": ("sun_burst", "sunburst_chart"),
    "treemap": ("tree_map", "treemap_chart"), "funnel": ("funnel_chart", "funnelplot"),
    "strip": ("stripplot", "strip_chart"), "ecdf": ("ecdf_plot", "ecdfplot"), "line_polar": ("polar_line", "polar"),
    "scatter_matrix": ("pairplot", "scatter_mat"),
}
_GO = {
    "Scatter": ("Scater", "ScatterPlot"), "Bar": ("BarChart", "Bars"), "Histogram": ("Hist", "HistogramChart"),
    "Box": ("BoxPlot", "Boxplot"), "Violin": ("ViolinPlot", "Violinplot"), "Heatmap": ("HeatMap", "HeatmapChart"),
    "Pie": ("PieChart", "Donut"), "Contour": ("ContourPlot", "ContourChart"), "Surface": ("SurfacePlot", "Surf"),
    "Figure": ("Fig", "FigureWidgetPlot"), "Scatter3d": ("Scatter3D", "Scatter3DPlot"),
    "Candlestick": ("CandleStick", "Candles"), "Histogram2dContour": ("Histogram2DContour", "Hist2dContour"),
}
_PLOTLY_FIGURE = {
    "update_layout": ("layout_update", "update_layouts"), "add_trace": ("addTrace", "add_plot"),
    "update_traces": ("update_trace", "traces_update"), "update_xaxes": ("update_xaxis", "update_x_axes"),
    "update_yaxes": ("update_yaxis", "update_y_axes"), "show": ("display", "render"),
    "write_image": ("save_image", "write_png"), "write_html": ("save_html", "to_html_file"),
    "add_annotation": ("annotate", "add_text"), "add_hline": ("axhline", "add_horizontal_line"),
    "add_vline": ("axvline", "add_vertical_line"),
}
_PANDAS_PLOT = {
    "line": ("lines", "line_chart"), "bar": ("bars", "barchart"), "barh": ("hbar", "horizontal_bar"),
    "scatter": ("scater", "scatterplot"), "hist": ("histogram", "histplot"), "box": ("boxplot", "box_plot"),
    "area": ("stacked_area", "areas"), "pie": ("piechart", "pie_chart"), "hexbin": ("hex", "hex_bin"),
    "kde": ("kde_plot", "density_plot"), "density": ("densityplot", "kde_plot"),
}
REPAIR_WRONG_NAMES = {"pyplot": _PYPLOT, "axes": _AXES, "figure": _FIGURE, "seaborn": _SEABORN, "express": _EXPRESS,
                      "go": _GO, "plotly_fig": _PLOTLY_FIGURE, "pandas_plot": _PANDAS_PLOT}
# Keyword misspellings; none is taken by a call that takes the keyword it stands for (seaborn's `orient`
# and a text's `bbox` exist, not where `orientation` and `bbox_inches` go; plotly's magic underscores
# make "line_width" and the like valid there, so those are not used).
REPAIR_KWARG_TYPOS = {
    "color": ("colour", "colr"), "linewidth": ("linewidht", "linewith"), "linestyle": ("linestlye", "line_stlye"),
    "alpha": ("alpah", "apha"), "label": ("lable", "labell"), "edgecolor": ("edgecolour", "edgecolr"),
    "facecolor": ("facecolour", "facecolr"), "markersize": ("markersise", "markesize"),
    "marker": ("markr", "marker_style"), "fontsize": ("fontsise", "fontsie"),
    "fontweight": ("fontweigth", "fontwieght"),
    "rotation": ("rotate", "rotaton"), "figsize": ("fig_size", "figsise"), "cmap": ("cmpa", "color_map"),
    "bins": ("bin", "num_bins"), "palette": ("pallete", "pallette"), "hue": ("hues", "hue_col"),
    "title": ("titel", "tittle"), "width": ("widht", "witdh"), "height": ("hieght", "heigth"),
    "opacity": ("opacitiy", "opactiy"), "template": ("tempate", "theme"), "autopct": ("auto_pct", "autopc"),
    "startangle": ("start_angle", "startangel"), "barmode": ("bar_mode", "barmod"), "annot": ("annotate", "anot"),
    "labels": ("lables", "label_names"), "bbox_inches": ("bbox_inch", "bbox"), "stacked": ("stack", "stakced"),
    "kind": ("knd", "plot_kind"), "data": ("dataset", "dataframe"), "showlegend": ("show_legend", "showlegends"),
    "nbins": ("n_bins", "nbin"), "orientation": ("orient", "orientaion"), "values": ("value", "vals"),
    "xaxis_title": ("xaxis_titel", "x_axis_title"), "yaxis_title": ("yaxis_titel", "y_axis_title"),
    "color_discrete_sequence": ("colour_discrete_sequence", "color_sequence"),
}
