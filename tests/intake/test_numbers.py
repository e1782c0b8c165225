"""Numbers as spreadsheets write them (`$1,889.50`, `5%`, `(12.00)`, `1 234,50 €`) read as the numbers they are."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from core.intake.files import read_table
from core.intake.suggest import suggest_mapping


def test_a_us_export_reads_amounts_percentages_and_separators_as_numbers(churn_rows):
    """Real churn rows as a US spreadsheet shows them: each money column was a category of thousands of values."""
    rows = churn_rows.head(120).reset_index(drop=True)
    export = pd.DataFrame(
        {
            "Customer ID": rows["customer_id"],
            "Monthly Charges": rows["monthly_charges"].map(lambda v: f"${v:,.2f}"),
            "Total Charges": rows["total_charges"].map(lambda v: f"${v:,.2f}"),
            "Discount": [f"{k % 4 * 2.5}%" for k in range(len(rows))],
            "Contract": rows["contract"],
        }
    )
    frame = read_table(export.to_csv(index=False).encode(), name="us.csv", max_mb=5)
    assert pd.to_numeric(frame["monthly_charges"]).round(2).tolist() == rows["monthly_charges"].round(2).tolist()
    assert pd.to_numeric(frame["total_charges"]).round(2).tolist() == rows["total_charges"].round(2).tolist()
    assert frame["discount"].tolist()[:4] == ["0.000", "0.025", "0.050", "0.075"]
    assert frame["contract"].equals(rows["contract"].rename("contract").astype(frame["contract"].dtype))
    big = rows["total_charges"].gt(999.995).idxmax()  # the example shown is one with a thousands separator
    assert frame.attrs["read_as"] == (
        "Numbers written with a currency, a percent sign or separators are read as numbers: `monthly_charges` "
        f"('${rows['monthly_charges'][0]:,.2f}' is {rows['monthly_charges'][0]:.2f}), `total_charges` "
        f"('${rows['total_charges'][big]:,.2f}' is {rows['total_charges'][big]:.2f}), `discount` ('2.5%' is 0.025)."
    )
    suggestion = suggest_mapping(frame)
    assert {"monthly_charges", "total_charges", "discount"} <= set(suggestion.numerical)


def test_accounting_formats_and_the_odd_value_left_for_the_number_check():
    cells = ["$1,234.50", "($12.00)", "$ -", "-$3.10", "$-4", "€7", "12 £", "(5%)", "1,000,000"] * 6 + ["n/a"]
    frame = read_table(pd.DataFrame({"a": cells, "b": "x"}).to_csv(index=False).encode(), name="a.csv")
    assert frame["a"].tolist()[:9] == ["1234.50", "-12.00", "0", "-3.10", "-4", "7", "12", "-0.05", "1000000"]
    assert frame["a"].iloc[-1] == "n/a"  # one cell in 55: the column is read, the cell left for the check to name
    too_odd = ["$1.00", "n/a"] * 5
    assert read_table(pd.DataFrame({"a": too_odd}).to_csv(index=False).encode(), name="b.csv")["a"].tolist() == too_odd


def test_text_that_only_looks_like_money_is_left_as_written():
    columns = {
        "phone": ["(555) 123-4567", "(555) 765-4321"],
        "sku": ["SKU 123", "SKU 456"],
        "list": ["1,2,3", "4,5,6"],
        "zip": ["02134", "10001"],
        "when": ["3/5/2024 10:00 AM", "3/6/2024 11:00 AM"],
        "euro_decimal": ["29,85", "1,5"],  # quoted in a comma file: which way it is meant cannot be told
        "note": ["50% off", "$5 voucher"],
    }
    frame = read_table(pd.DataFrame(columns).to_csv(index=False).encode(), name="t.csv")
    assert frame.to_dict("list") == columns and "read_as" not in frame.attrs


def test_european_and_us_files_with_other_separators():
    euro = "Preis;Rabatt;Menge\n1 234,50 €;12,5 %;1.000\n29,85 €;5 %;12\n".encode()
    frame = read_table(euro, name="e.csv")
    assert frame.to_dict("list") == {
        "preis": ["1234.50", "29.85"],
        "rabatt": ["0.125", "0.05"],
        "menge": ["1000", "12"],
    }
    assert frame.attrs["read_as"] == (
        "Read as columns separated by semicolons, with decimal commas (29,85 is 29.85; 1.234 is 1234) in `menge`. "
        "Numbers written with a currency, a percent sign or separators are read as numbers: `preis` ('1 234,50 €' is "
        "1234.50), `rabatt` ('12,5 %' is 0.125)."
    )
    us_tabs = read_table(b"amount\tcount\n1,234.50\t1,000\n12.25\t3\n", name="u.tsv.csv")
    assert us_tabs.to_dict("list") == {"amount": ["1234.50", "12.25"], "count": ["1000", "3"]}


def test_the_rows_a_spreadsheet_leaves_at_the_end_are_left_out():
    data = b'id,when,amount\nA1,2024-01-01,"$1,000.00"\nA2,2024-01-02,$5.00\n,,\nTotal,,"$1,005.00"\n,,\n'
    frame = read_table(data, name="t.csv")
    assert frame["id"].tolist() == ["A1", "A2"] and frame["amount"].tolist() == ["1000.00", "5.00"]
    assert frame.attrs["read_as"].startswith("The file's last row ('Total') adds up the rows above; it was left out.")
    # a whole row whose first cell is Total is a row like any other; an empty row in the middle stays for the checks
    kept = read_table(b"name,n\nTotal,3\nB,4\n", name="k.csv")
    assert kept["name"].tolist() == ["Total", "B"]
    assert read_table(b"a,b\nTotal,1\n", name="one.csv")["a"].tolist() == ["Total"]
    middle = read_table(b"a,b\n1,2\n,\n3,4\n", name="m.csv")
    assert len(middle) == 3


def test_a_workbook_cell_typed_as_text_reads_as_its_number():
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"amount": ["$1,234.50", "$7.00"], "n": [1.5, 2.0]}).to_excel(writer, index=False)
        pd.DataFrame({"old": [1]}).to_excel(writer, sheet_name="Old", index=False)
    frame = read_table(buffer.getvalue(), name="w.xlsx")
    assert frame.to_dict("list") == {"amount": ["1234.50", "7.00"], "n": ["1.5", "2"]}
    assert frame.attrs["read_as"] == (
        "Read the sheet `Sheet1`, the first of 2 sheets with data. Numbers written with a currency, a percent sign or "
        "separators are read as numbers: `amount` ('$1,234.50' is 1234.50)."
    )


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=-(10**11), max_value=10**11),
    symbol=st.sampled_from(["$", "€", "£", ""]),
    after=st.booleans(),
    brackets=st.booleans(),
    percent=st.booleans(),
)
def test_any_amount_reads_back_exactly(cents, symbol, after, brackets, percent):
    """Whatever the format, the text read is the exact decimal written: no float on the way (14.5% is 0.145)."""
    value = Decimal(cents) / 100
    body = f"{abs(value):,.2f}%" if percent else f"{abs(value):,.2f}"
    symbol = "" if percent else symbol  # a share, not an amount
    body = f"{body} {symbol}" if after else f"{symbol}{body}"
    text = f"({body})" if brackets and value < 0 else (f"-{body}" if value < 0 else body)
    frame = read_table(pd.DataFrame({"a": [text, "$1.00"]}).to_csv(index=False).encode(), name="h.csv")
    expected = value / 100 if percent else value
    assert Decimal(frame["a"].iloc[0]) == expected
