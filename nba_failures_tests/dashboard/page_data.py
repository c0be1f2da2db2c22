"""What a written dashboard page carries, read back without a browser."""

import json
import re

import pandas as pd


def embedded_rows(page: str) -> pd.DataFrame:
    """The table rows the page carries (its one JSON element), decoded as the page's script decodes them."""
    data = json.loads(re.search(r'<script type="application/json" id="failure-rows">(.*?)</script>', page, re.DOTALL).group(1))
    return pd.DataFrame({column["name"]: [column["values"][code] for code in column["codes"]] for column in data["columns"]})
