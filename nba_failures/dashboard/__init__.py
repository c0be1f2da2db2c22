"""The failure dashboard: figures from the failure store (`figures`), the page (`html`), the asset (`assets`)."""
