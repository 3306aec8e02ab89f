SELECT MAX(charge_date) FROM "cur"."finops_line_items" AS line_items WHERE ChargeCategory = 'Usage'
