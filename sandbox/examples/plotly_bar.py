import plotly.express as px

fruits = {"fruit": ["apples", "pears", "plums", "kiwis"], "count": [12, 7, 4, 9]}
fig = px.bar(fruits, x="fruit", y="count", title="Fruit in the basket", color="fruit")
fig.show()
