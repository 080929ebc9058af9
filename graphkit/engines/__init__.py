"""Optional propagation engines beside the embedded one (graphkit.propagate).

``graphkit.engines.spark`` runs the same three modes on Apache Spark DataFrames, for graphs
that outgrow one machine; it needs the ``spark`` extra (``pip install 'graphkit[spark]'``)
and is imported only when used.
"""
