"""Cost reference data: tariff / NHS Payment Scheme prices and National Cost Collection unit costs."""
