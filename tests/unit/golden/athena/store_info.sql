SELECT COUNT(*), MIN(charge_date), MAX(charge_date) FROM "cur"."finops_line_items" AS line_items;

SELECT DISTINCT BillingCurrency FROM "cur"."finops_line_items" AS line_items WHERE NOT BillingCurrency IS NULL LIMIT 2;

SELECT DISTINCT ProviderName FROM "cur"."finops_line_items" AS line_items WHERE NOT ProviderName IS NULL ORDER BY 1
