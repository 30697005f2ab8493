from django.db import migrations


def load(apps, schema_editor):
    from apps.deliberations.nomenclature import load_nomenclature

    load_nomenclature(apps.get_model("deliberations", "Matiere"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("deliberations", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
