SELECT SubAccountId, MAX(SubAccountName) FROM "cur"."finops_line_items" AS line_items WHERE NOT SubAccountId IS NULL GROUP BY 1
